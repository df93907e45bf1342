import ChildProcesses
import Foundation

/// A topic's records as kcat (a Kafka client apart from RadStream's) reads them, from the beginning.
struct TopicRecord {
    let key: String?
    let payload: String
    let headers: [String: String]

    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] }

    static func read(_ topic: String, bootstrap: String) throws -> [TopicRecord] {
        let run = try ChildProcess.run("/usr/bin/kcat", ["-b", bootstrap, "-C", "-t", topic, "-e", "-q", "-J"])
        guard run.status == 0 else { throw TestFailure("kcat on \(topic): \(run.output)") }
        return run.output.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            let flat = object["headers"] as? [String] ?? []
            var headers: [String: String] = [:]
            for index in stride(from: 0, to: flat.count - 1, by: 2) { headers[flat[index]] = flat[index + 1] }
            return TopicRecord(key: object["key"] as? String, payload: object["payload"] as? String ?? "", headers: headers)
        }
    }
}
