import Foundation
import Logging

/// Writes the consumer's lag per partition to PostgreSQL every `kafka.lagRecordSeconds`, on a
/// connection and a thread of its own, so that dashboards can chart it over time (a lag lives
/// in each daemon's memory otherwise, and on its `/metrics` only as it is now). It writes what
/// the consumer last saw, so a consumer stuck in one batch shows the lag it had when it stopped
/// polling; `/readyz` says it is stalled.
final class LagRecorder {
    private let group: String
    private let interval: Duration
    private let session: DatabaseSession
    private let status: DaemonStatus
    private let logger: Logger

    init(configuration: RadStreamConfiguration, status: DaemonStatus, logger: Logger) {
        group = configuration.kafka.groupID
        interval = .seconds(configuration.kafka.lagRecordSeconds)
        self.status = status
        self.logger = logger
        session = DatabaseSession("lag recorder", conninfo: configuration.postgres.conninfo, status: status, logger: logger)
    }

    /// Until the daemon stops.
    func run() {
        DaemonThreads.lowerPriorityOfCallingThread()
        status.sleep(interval)  // the consumer's first look at the partitions comes a second after it subscribes
        while !status.stopRequested {
            let lags = status.partitionLags
            do {
                try session.run("consumer lag") { try ConsumerLagLog(connection: $0).record(group: group, lags: lags) }
            } catch is DatabaseSession.Stopped {
                return
            } catch {
                logger.error("consumer lag: \(error)")
            }
            status.sleep(interval)
        }
    }
}
