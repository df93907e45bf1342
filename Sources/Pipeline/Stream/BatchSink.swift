import Kafka
import Logging
import Postgres

/// A processed batch on its way to PostgreSQL.
struct ProcessedBatch: @unchecked Sendable {  // handed from the consumer thread to the committer, never shared
    let processed: [ProcessedEvent]
    let next: [TopicPartition: Int64]
    let started: ContinuousClock.Instant
}

/// What becomes of a processed batch, on the committer's thread: its dead letters republished,
/// its results, dead-letter rows and offsets written in one transaction (event by event when
/// PostgreSQL refuses one of them), the offsets committed to Kafka for lag monitoring, and the
/// counters moved by what the transaction actually wrote.
final class BatchSink {
    private let configuration: RadStreamConfiguration
    /// The committer's; the consumer borrows it only while the committer is drained.
    private let database: DatabaseSession
    private let deadLetters: KafkaProducer
    private let writer: ResultWriter
    private let status: DaemonStatus
    private let metrics: DaemonMetrics
    private let logger: Logger
    private let commitToKafka: ([TopicPartition: Int64]) -> Void

    init(configuration: RadStreamConfiguration, database: DatabaseSession, deadLetters: KafkaProducer, status: DaemonStatus,
         metrics: DaemonMetrics, logger: Logger, commitToKafka: @escaping ([TopicPartition: Int64]) -> Void) {
        self.configuration = configuration
        self.database = database
        self.deadLetters = deadLetters
        writer = ResultWriter(group: configuration.kafka.groupID, outbox: configuration.results.enabled)
        self.status = status
        self.metrics = metrics
        self.logger = logger
        self.commitToKafka = commitToKafka
    }

    /// On the committer's thread: dead letters, then results and offsets in one transaction.
    func commit(_ batch: ProcessedBatch) throws {
        let (processed, next, started) = (batch.processed, batch.next, batch.started)
        publishDeadLetters(processed)
        let summary: ResultWriter.Summary
        let writing = ContinuousClock.now
        do {
            summary = try database.run("batch commit") { try write(processed, advancing: next, on: $0) }
            metrics.stageTook("commit", ContinuousClock.now - writing)
        } catch is DatabaseSession.Stopped {
            logger.warning("stopping before \(processed.count) records could be committed; they will be consumed again")
            return
        }
        status.batchCommitted()
        commitToKafka(next)
        metrics.processed(kind: "image", count: summary.images)
        metrics.processed(kind: "report", count: summary.reports)
        metrics.duplicates(summary.duplicates)
        for (code, count) in summary.deadLetterCodes { metrics.deadLettered(code: code, count: count) }
        metrics.predicted(processed)
        metrics.batchDuration.record(ContinuousClock.now - started)
        if summary.skipped > 0 { logger.info("skipped records already committed", metadata: ["records": "\(summary.skipped)"]) }
        if summary.duplicates > 0 {
            logger.info("copies of events already written (same event_id): written once", metadata: ["events": "\(summary.duplicates)"])
        }
    }

    /// Writes the batch in one transaction. Should PostgreSQL refuse it for what one event holds
    /// (bad data, a broken constraint — not for being away, nor for a fault of its own, which
    /// `DatabaseSession` waits out), the events are written one by one and the one it refuses
    /// becomes a dead letter, so that no single event can stop the stream.
    private func write(_ events: [ProcessedEvent], advancing next: [TopicPartition: Int64],
                       on connection: PostgresConnection) throws -> ResultWriter.Summary {
        do {
            return try writer.write(events, advancing: next, on: connection)
        } catch let error as PostgresError where error.blamesTheStatement && events.count > 1 {
            logger.warning("batch refused (\(error)); writing its events one by one", metadata: ["batch_size": "\(events.count)"])
            // Each event alone advances its partition just past itself; in order, they end where the batch would.
            return try events.reduce(ResultWriter.Summary()) { total, event in
                total + (try write([event], advancing: [event.source.topicPartition: event.source.offset + 1], on: connection))
            }
        } catch let error as PostgresError where error.blamesTheStatement {
            guard let event = events.first else { throw error }
            let refused = event.refused(DeadLetter(code: "processing_failed", reason: "PostgreSQL refused the result: \(error.message)"))
            publishDeadLetters([refused])
            return try writer.write([refused], advancing: next, on: connection)
        }
    }

    /// Republishes each refused record on `<topic>.dlq`, byte for byte, with its origin and
    /// reason in headers. The dead-letter table is the record of truth, written in the batch's
    /// transaction; the topic's copy is sent without waiting for it (a dead-letter topic without
    /// a leader must not hold good events back), and a copy that cannot be delivered is logged.
    /// Should the daemon die before its batch commits, the record is consumed again and may be
    /// republished.
    private func publishDeadLetters(_ events: [ProcessedEvent]) {
        if let failure = deadLetters.takeDeliveryFailure() {
            logger.error("an earlier dead letter did not reach its topic (\(failure)); the dead_letters table has it")
        }
        for event in events {
            guard case .deadLetter(let letter) = event.payload else { continue }
            logger.notice("dead letter: \(letter.reason)", metadata: event.source.logMetadata.merging(["code": "\(letter.code)"]) { $1 })
            let headers: [(String, [UInt8])] = [
                ("radstream.origin.topic", Array(event.source.topic.utf8)),
                ("radstream.origin.partition", Array(String(event.source.partition).utf8)),
                ("radstream.origin.offset", Array(String(event.source.offset).utf8)),
                ("radstream.error.code", Array(letter.code.utf8)),
                ("radstream.error.message", Array(letter.reason.prefix(1000).utf8)),
            ]
            do {
                try deadLetters.send(topic: configuration.deadLetterTopic(for: event.source.topic),
                                  key: event.source.key.map { Array($0.utf8) }, value: event.raw, headers: headers,
                                  waitingAtMost: .seconds(1))
            } catch {
                logger.error("cannot publish a dead letter: \(error); the dead_letters table has it", metadata: event.source.logMetadata)
            }
        }
        deadLetters.poll()
    }

    /// The dead letters' last copies on Kafka, for a bounded time at exit: the table has them all.
    func flushDeadLetters() {
        do { try deadLetters.flush(timeout: .seconds(5)) } catch {
            logger.warning("dead letters not all confirmed on their topics before exit (\(error)); the dead_letters table has them")
        }
    }
}
