import Foundation
import Logging
import ServiceLifecycle

/// The consumer as a lifecycle `Service`: its loop runs on a dedicated thread (librdkafka and
/// libpq block), and a graceful shutdown (SIGTERM) asks it to finish its batch, commit and leave.
///
/// The shutdown is bounded: should the batch not commit within `batch.shutdownSeconds` (a lock
/// held elsewhere, a server that stopped answering), or a second SIGTERM or SIGINT come, the
/// process exits at once. Nothing is lost by that: what was not committed is consumed again.
public struct DaemonService: Service {
    let configuration: RadStreamConfiguration
    let processor: EventProcessor
    let status: DaemonStatus
    let metrics: DaemonMetrics
    let logger: Logger

    public init(configuration: RadStreamConfiguration, processor: EventProcessor, status: DaemonStatus,
                metrics: DaemonMetrics, logger: Logger) {
        self.configuration = configuration
        self.processor = processor
        self.status = status
        self.metrics = metrics
        self.logger = logger
    }

    public func run() async throws {
        let (status, logger) = (self.status, self.logger)
        let deadline = Duration.seconds(configuration.batch.shutdownSeconds)
        let threads = try DaemonThreads(configuration: configuration, processor: processor, status: status, metrics: metrics,
                                    logger: logger)
        let shutdown = ShutdownDeadline(deadline, logger: logger)
        try await withGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                threads.start { failure in
                    // The helpers stop within a step of a round or a batch, or a second of listening.
                    if !threads.waitForHelpers(atMost: DaemonThreads.helperStopBound) {
                        logger.warning("""
                            a background helper did not stop within \(DaemonThreads.helperStopBound): leaving without it \
                            (its uncommitted work is rolled back and done again after the restart)
                            """)
                    }
                    shutdown.cancel()
                    if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
                }
            }
        } onGracefulShutdown: {
            status.requestStop()
            shutdown.start()
        }
    }
}

/// Exits the process when a graceful stop overruns its deadline or is asked for twice.
final class ShutdownDeadline: Sendable {
    private let deadline: Duration
    private let logger: Logger
    private let queue = DispatchQueue(label: "radstream.shutdown-deadline")
    /// Touched on `queue` only: the pending exit, and the sources of the second signal (kept
    /// alive for the rest of the process).
    nonisolated(unsafe) private var exit: DispatchWorkItem?
    nonisolated(unsafe) private var sources: [any DispatchSourceSignal] = []

    init(_ deadline: Duration, logger: Logger) {
        self.deadline = deadline
        self.logger = logger
    }

    /// From the stop request on: a second signal, or the deadline passing, ends the process.
    func start() {
        let (deadline, logger) = (self.deadline, self.logger)
        queue.async { [self] in
            // The lifecycle library already traps these (ignored by default, seen through
            // dispatch); a second source sees the signals that come after the first.
            for number in [SIGTERM, SIGINT] {
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler {
                    logger.critical("a second stop signal: exiting now; what was not committed will be consumed again")
                    Foundation.exit(1)
                }
                source.resume()
                sources.append(source)
            }
            let exit = DispatchWorkItem {
                logger.critical("""
                    the batch in hand did not commit within \(deadline) of the stop: exiting anyway; \
                    what was not committed will be consumed again
                    """)
                Foundation.exit(1)
            }
            self.exit = exit
            queue.asyncAfter(deadline: .now() + .milliseconds(Int(deadline.components.seconds * 1000)), execute: exit)
        }
    }

    /// The daemon stopped in time.
    func cancel() {
        queue.sync { exit?.cancel() }
    }
}
