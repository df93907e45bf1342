import Foundation
import Logging
@testable import Pipeline

/// The daemon's threads (consumer, model watcher, self-training when configured) in this test
/// process, stopped as SIGTERM would stop them.
final class InProcessDaemon: @unchecked Sendable {
    let status: DaemonStatus
    let metrics = DaemonMetrics()
    private let finished = DispatchSemaphore(value: 0)
    private let threads: DaemonThreads
    private(set) var failure: (any Error)?

    init(configuration: RadStreamConfiguration, logLevel: Logger.Level = .warning) throws {
        status = DaemonStatus(stallAfter: .seconds(configuration.batch.stallSeconds))
        var logger = Logger(label: "test-daemon")
        logger.logLevel = logLevel
        threads = try DaemonThreads(configuration: configuration, processor: try EventProcessor(configuration: configuration),
                                status: status, metrics: metrics, logger: logger)
        threads.start { [self] error in
            failure = error
            finished.signal()
        }
    }

    /// A sample of `/metrics` by its exposition line's name and labels, e.g. `radstream_partitions_held`.
    func metric(_ name: String) -> Double? {
        let text = String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self)
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// Finishes the batch in hand, commits and leaves the group; the other threads end too.
    func stop() {
        status.requestStop()
        finished.wait()
        precondition(threads.waitForHelpers(atMost: .seconds(300)), "a helper thread did not stop")
    }
}

/// Waits until `condition` holds, polling; false when `timeout` passes first.
func eventually(timeout: Duration, every interval: Duration = .milliseconds(250),
                _ condition: () throws -> Bool) throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: Double(interval.components.attoseconds) / 1e18 + Double(interval.components.seconds))
    }
    return try condition()
}
