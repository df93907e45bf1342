import ChildProcesses
import Foundation
import Pipeline

/// `radstream serve` as a supervised child of the drill, as systemd runs it with
/// `Restart=on-failure`: killed by the drill, or dead on its own, it is started again.
final class DrillDaemon {
    private let binary: String
    private let configFile: URL
    private let logDirectory: URL
    private(set) var pid: pid_t?
    private(set) var starts = 0
    /// Exits the drill did not cause, with their status: each one is a finding.
    private(set) var unexpectedExits: [Int32] = []

    init(binary: String, configuration: RadStreamConfiguration, directory: URL) throws {
        self.binary = binary
        logDirectory = directory
        configFile = directory.appending(path: "drill-daemon.json")
        try JSONEncoder().encode(configuration).write(to: configFile)
    }

    var logFile: URL { logDirectory.appending(path: "drill-daemon-\(starts).log") }

    func start() throws {
        starts += 1
        pid = try ChildProcess.spawn(binary, ["serve", "--config", configFile.path], outputPath: logFile.path)
    }

    /// Starts it again if it died on its own since the last look.
    func superviseOnce() throws {
        guard let running = pid, let status = ChildProcess.exitStatus(running) else { return }
        unexpectedExits.append(status)
        pid = nil
        try start()
    }

    /// SIGKILL: no chance to finish its batch.
    func kill() {
        guard let running = pid else { return }
        Foundation.kill(running, SIGKILL)
        _ = ChildProcess.wait(running)
        pid = nil
    }

    /// SIGTERM, as at the end of the drill; its exit status.
    func stop() -> Int32? {
        guard let running = pid else { return nil }
        Foundation.kill(running, SIGTERM)
        pid = nil
        return ChildProcess.wait(running)
    }
}
