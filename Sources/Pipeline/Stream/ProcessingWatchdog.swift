import Foundation
import Logging
import Synchronization

/// Ends the process when processing one batch overruns its timeout: a hang in a decoder or a
/// model cannot be interrupted from outside its thread, and a daemon that hangs holds its
/// partitions for good. Restarted (by systemd, Kubernetes), the daemon finds the attempt
/// unfinished in `processing_attempts`, and the record that hangs is quarantined in the end.
final class ProcessingWatchdog: Sendable {
    private let timeout: Duration
    private let logger: Logger
    private let processingSince = Mutex<(since: ContinuousClock.Instant, records: Int)?>(nil)

    init(timeout: Duration, status: DaemonStatus, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
        let thread = Thread { [self] in
            while !status.stopRequested {
                status.sleep(.seconds(1))
                guard let (since, records) = processingSince.withLock({ $0 }), ContinuousClock.now - since > timeout else { continue }
                logger.critical("""
                    processing a batch of \(records) records has taken longer than \(timeout): exiting, to be restarted; \
                    its records will be tried one by one, and one that hangs again is quarantined
                    """)
                exit(1)
            }
        }
        thread.name = "radstream-watchdog"
        thread.start()
    }

    /// Runs `work` (processing `records` records) under the timeout.
    func guarding<T>(records: Int, _ work: () throws -> T) rethrows -> T {
        processingSince.withLock { $0 = (ContinuousClock.now, records) }
        defer { processingSince.withLock { $0 = nil } }
        return try work()
    }
}
