import Foundation
@testable import Pipeline

/// `radstream serve` as a child process, to be killed as a real machine would kill it.
final class DaemonProcess {
    let pid: pid_t
    let log: URL

    init(configuration: RadStreamConfiguration, directory: URL) throws {
        let binary = Paths.binary.path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestFailure("no \(binary): build it first (ops/test.sh runs `swift build` before the tests)")
        }
        let configFile = directory.appending(path: "config-\(UUID().uuidString).json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .prettyPrinted
        try encoder.encode(configuration).write(to: configFile)
        log = directory.appending(path: "daemon-\(UUID().uuidString).log")

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let arguments = [binary, "serve", "--config", configFile.path]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, binary, &actions, nil, argv, environ)
        guard status == 0 else { throw TestFailure("cannot start the daemon: \(String(cString: strerror(status)))") }
        self.pid = pid
    }

    /// Sends `signal` and waits for the process to end; returns its exit status.
    @discardableResult
    func stop(with signal: Int32) -> Int32 {
        kill(pid, signal)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
