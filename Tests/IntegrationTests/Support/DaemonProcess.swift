import ChildProcesses
import Foundation
@testable import Pipeline

/// `radstream serve` as a child process, to be killed as a real machine would kill it.
final class DaemonProcess {
    let pid: pid_t
    let log: URL

    init(configuration: RadStreamConfiguration, directory: URL, environment: [String: String] = [:]) throws {
        let binary = Paths.binary.path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestFailure("no \(binary): build it first (ops/test.sh runs `swift build` before the tests)")
        }
        let configFile = directory.appending(path: "config-\(UUID().uuidString).json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .prettyPrinted
        try encoder.encode(configuration).write(to: configFile)
        log = directory.appending(path: "daemon-\(UUID().uuidString).log")

        pid = try ChildProcess.spawn(binary, ["serve", "--config", configFile.path], outputPath: log.path, environment: environment)
    }

    /// Sends `signal` and waits for the process to end; returns its exit status.
    @discardableResult
    func stop(with signal: Int32) -> Int32 {
        kill(pid, signal)
        return ChildProcess.wait(pid)
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// The port of its HTTP probes, once it has logged it (in a text or a JSON line).
    var httpPort: Int? {
        output.firstMatch(of: /HTTP on 127\.0\.0\.1:(\d+)/).flatMap { Int($0.1) }
    }

    /// The sum of a counter's samples on its `/metrics` whose line starts with `prefix`.
    func metricSum(_ prefix: String) -> Double {
        guard let port = httpPort, let metrics = httpGet("http://127.0.0.1:\(port)/metrics") else { return 0 }
        return metrics.body.split(separator: "\n").filter { $0.hasPrefix(prefix) }
            .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
