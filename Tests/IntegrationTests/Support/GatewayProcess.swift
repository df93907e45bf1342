import ChildProcesses
import Foundation
@testable import Pipeline

/// `radstream gateway` as a child process, with its configuration written to a file.
final class GatewayProcess {
    let pid: pid_t
    let log: URL
    let dicomPort: Int

    init(configuration: RadStreamConfiguration, directory: URL, environment: [String: String] = [:]) throws {
        let configFile = directory.appending(path: "gateway-\(UUID().uuidString).json")
        try JSONEncoder().encode(configuration).write(to: configFile)
        log = directory.appending(path: "gateway-\(UUID().uuidString).log")
        dicomPort = configuration.gateway.dicom.port
        pid = try ChildProcess.spawn(Paths.binary.path, ["gateway", "--config", configFile.path], outputPath: log.path,
                                     environment: environment)
        guard try eventually(timeout: .seconds(30), { output.contains("gateway: listening") }) else {
            kill(pid, SIGKILL)
            _ = ChildProcess.wait(pid)
            throw TestFailure("the gateway did not start: \(output.suffix(2000))")
        }
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    var hl7Port: Int? { output.firstMatch(of: /hl7 (\d+)\)/).flatMap { Int($0.1) } }

    @discardableResult
    func stop(with signal: Int32) -> Int32 {
        kill(pid, signal)
        return ChildProcess.wait(pid)
    }
}

/// A port nothing listens on now (the system's choice for a socket bound to port 0).
func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
        }
    }
    guard bound else { throw TestFailure("cannot bind a socket to port 0") }
    return Int(UInt16(bigEndian: address.sin_port))
}
