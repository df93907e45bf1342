import Foundation
import Logging
import Summarization

/// Reads the summarizer's memory of earlier reports from PostgreSQL again every
/// `refreshSeconds`, on a connection and a thread of its own (building the index of 50,000
/// reports takes a second or two, which the consumer should not wait for), and hands it to the
/// summarizer stage between two batches through the holder.
final class ReportMemoryRefresher {
    private let holder: ReportMemoryHolder
    private let settings: RadStreamConfiguration.SummaryMemory
    private let session: DatabaseSession
    private let status: DaemonStatus
    private let metrics: DaemonMetrics
    private let logger: Logger

    init(holder: ReportMemoryHolder, settings: RadStreamConfiguration.SummaryMemory, conninfo: String, status: DaemonStatus,
         metrics: DaemonMetrics, logger: Logger) {
        self.holder = holder
        self.metrics = metrics
        self.settings = settings
        self.status = status
        self.logger = logger
        session = DatabaseSession("report memory", conninfo: conninfo, status: status, logger: logger)
    }

    /// Until the daemon stops.
    func run() {
        DaemonThreads.lowerPriorityOfCallingThread()
        // The newest report the memory holds: a quiet stream writes nothing new, and the memory
        // it has is then neither read nor indexed again.
        var newestRead: Int?, hasRead = false
        while !status.stopRequested {
            do {
                let start = ContinuousClock.now
                let (newest, memory) = try session.run("summarizer's memory") { connection -> (Int?, ReportMemory?) in
                    let stored = StoredReportMemory(connection: connection)
                    let newest = try stored.newestReport()
                    guard !hasRead || newest != newestRead else { return (newest, nil) }
                    return (newest, try stored.load(limit: settings.reports))
                }
                (newestRead, hasRead) = (newest, true)
                if let memory {
                    let previous = holder.memory?.entries.count
                    holder.replace(with: memory)
                    metrics.summarizerMemory(memory.entries.count)
                    if previous != memory.entries.count {
                        logger.info("summarizer's memory: \(memory.entries.count) earlier reports (read in \(ContinuousClock.now - start))")
                    }
                }
            } catch is DatabaseSession.Stopped {
                return
            } catch {
                logger.error("summarizer's memory: \(error)")
            }
            status.sleep(.seconds(settings.refreshSeconds))
        }
    }
}
