import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A blocking GET for the tests; nil when nothing answered.
func httpGet(_ url: String, headers: [String: String] = [:]) -> (status: Int, body: String)? {
    httpFetch(url, headers: headers).map { ($0.status, String(decoding: $0.data, as: UTF8.self)) }
}

/// The same, with the body's bytes and the response's content type.
func httpFetch(_ url: String, headers: [String: String] = [:]) -> (status: Int, data: Data, contentType: String?)? {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: (Int, Data, String?)?
    var request = URLRequest(url: URL(string: url)!)
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    let task = ChallengeRefuser.session.dataTask(with: request) { data, response, _ in
        if let response = response as? HTTPURLResponse {
            result = (response.statusCode, data ?? Data(), response.value(forHTTPHeaderField: "Content-Type"))
        }
        done.signal()
    }
    task.resume()
    done.wait()
    // A login refused: the challenge's own response, which the task was cancelled on.
    return result ?? ChallengeRefuser.refused.withLock { $0.removeValue(forKey: task.taskIdentifier) }.map { ($0, Data(), nil) }
}

/// Answers a server's login challenge by cancelling, keeping its status. Without a delegate,
/// swift-corelibs-foundation leaves a task that met a 401 with WWW-Authenticate waiting forever
/// (swiftlang/swift-corelibs-foundation#5456).
final class ChallengeRefuser: NSObject, URLSessionTaskDelegate, Sendable {
    static let refused = Mutex<[Int: Int]>([:])
    static let session = URLSession(configuration: .ephemeral, delegate: ChallengeRefuser(), delegateQueue: nil)

    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        if let status = (challenge.failureResponse as? HTTPURLResponse)?.statusCode {
            Self.refused.withLock { $0[task.taskIdentifier] = status }
        }
        completionHandler(.cancelAuthenticationChallenge, nil)
    }
}
