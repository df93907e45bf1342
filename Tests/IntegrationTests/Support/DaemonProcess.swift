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

        pid = try Child.spawn(binary, ["serve", "--config", configFile.path], output: log)
    }

    /// Sends `signal` and waits for the process to end; returns its exit status.
    @discardableResult
    func stop(with signal: Int32) -> Int32 {
        kill(pid, signal)
        return Child.wait(pid)
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
}

/// Child processes through posix_spawn and waitpid (Foundation's `Process` may never reap a
/// child when waited for from async code on Linux).
enum Child {
    static func spawn(_ path: String, _ arguments: [String], output: URL) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, path, &actions, nil, argv, environ)
        guard status == 0 else { throw TestFailure("cannot start \(path): \(String(cString: strerror(status)))") }
        return pid
    }

    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    /// Runs to completion; returns the exit status and what it printed.
    static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let output = FileManager.default.temporaryDirectory.appending(path: "child-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: output) }
        let status = wait(try spawn(path, arguments, output: output))
        return (status, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
