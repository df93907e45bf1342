import Foundation
import Logging
import ServiceLifecycle

/// The consumer as a lifecycle `Service`: its loop runs on a dedicated thread (librdkafka and
/// libpq block), and a graceful shutdown (SIGTERM) asks it to finish its batch, commit and leave.
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
        let status = self.status
        let threads = DaemonThreads(configuration: configuration, processor: processor, status: status, metrics: metrics,
                                    logger: logger)
        try await withGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                threads.start { failure in
                    // The helpers stop within a step of a round or a second of listening.
                    threads.waitForHelpers()
                    if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
                }
            }
        } onGracefulShutdown: {
            status.requestStop()
        }
    }
}
