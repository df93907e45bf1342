import Foundation
import Logging
@testable import Pipeline

/// The consumer loop on a thread of this test process, stopped as SIGTERM would stop it.
final class InProcessDaemon: @unchecked Sendable {
    let status = DaemonStatus()
    private let finished = DispatchSemaphore(value: 0)
    private(set) var failure: (any Error)?

    init(configuration: RadStreamConfiguration) throws {
        var logger = Logger(label: "test-daemon")
        logger.logLevel = .warning
        let consumer = StreamConsumer(configuration: configuration, processor: try EventProcessor(configuration: configuration),
                                      status: status, metrics: DaemonMetrics(), logger: logger)
        nonisolated(unsafe) let owned = consumer  // used on the thread only
        let thread = Thread { [self] in
            do { try owned.run() } catch { failure = error }
            finished.signal()
        }
        thread.start()
    }

    /// Finishes the batch in hand, commits and leaves the group.
    func stop() {
        status.requestStop()
        finished.wait()
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
