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

    var httpPort: Int? { output.firstMatch(of: /gateway: HTTP on [0-9.]+:(\d+)/).flatMap { Int($0.1) } }

    @discardableResult
    func stop(with signal: Int32) -> Int32 {
        kill(pid, signal)
        return ChildProcess.wait(pid)
    }
}
