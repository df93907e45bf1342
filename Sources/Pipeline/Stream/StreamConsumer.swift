import Events
import Foundation
import Kafka
import Logging
import Postgres
import SelfTraining

/// The consuming loop, run on a thread of its own (librdkafka polls and libpq calls block):
/// poll into a batch; process it; hand it to the committer, which publishes its dead letters,
/// writes results and offsets in one transaction and commits the offsets to Kafka too (for lag
/// monitoring) while the next batch is polled and processed. Repeat until asked to stop, then
/// finish the batch in hand, wait for its commit and leave the group.
///
/// The database session is the committer's, except while it is drained: on assignment (offset
/// lookups) and on revocation, so the two threads never share the connection.
final class StreamConsumer: RebalanceHandler {
    private let configuration: RadStreamConfiguration
    /// Replaced between batches when a new version of a classifier is served.
    private var processor: EventProcessor
    private let served: ServedModels
    private let status: DaemonStatus
    private let metrics: DaemonMetrics
    private let logger: Logger
    private let database: DatabaseSession
    /// The consumer thread's own connection, for the attempts it records before processing
    /// (the committer's session is busy with the batch before).
    private let attemptsSession: DatabaseSession
    private let attempts: AttemptLog
    private let watchdog: ProcessingWatchdog
    private let writer: ResultWriter
    private let offsets: OffsetStore
    private var batch: BatchState
    private var consumer: KafkaConsumer?
    private var producer: KafkaProducer?
    private var committer: BatchCommitter<ProcessedBatch>?

    /// A processed batch on its way to PostgreSQL.
    struct ProcessedBatch: @unchecked Sendable {  // handed from the consumer thread to the committer, never shared
        let processed: [ProcessedEvent]
        let next: [TopicPartition: Int64]
        let started: ContinuousClock.Instant
    }

    init(configuration: RadStreamConfiguration, processor: EventProcessor, served: ServedModels, status: DaemonStatus,
         metrics: DaemonMetrics, logger: Logger) {
        self.configuration = configuration
        self.processor = processor
        self.served = served
        self.status = status
        self.metrics = metrics
        self.logger = logger
        database = DatabaseSession(DatabaseSession.consumer, conninfo: configuration.postgres.conninfo, status: status, metrics: metrics,
                                   maxBackoff: .seconds(configuration.postgres.retryMaxSeconds),
                                   statementTimeout: .seconds(configuration.postgres.statementTimeoutSeconds), logger: logger)
        attemptsSession = DatabaseSession("attempt log", conninfo: configuration.postgres.conninfo, status: status,
                                          metrics: metrics, maxBackoff: .seconds(configuration.postgres.retryMaxSeconds),
                                          statementTimeout: .seconds(configuration.postgres.statementTimeoutSeconds), logger: logger)
        attempts = AttemptLog(group: configuration.kafka.groupID)
        watchdog = ProcessingWatchdog(timeout: .seconds(configuration.batch.processingTimeoutSeconds), status: status, logger: logger)
        writer = ResultWriter(group: configuration.kafka.groupID)
        offsets = OffsetStore(group: configuration.kafka.groupID)
        batch = BatchState(maxEvents: configuration.batch.maxEvents, maxBytes: configuration.batch.maxBytes,
                           maxWait: .milliseconds(configuration.batch.maxWaitMilliseconds))
    }

    func run() throws {
        var kafka = configuration.kafka.properties
        kafka["bootstrap.servers"] = configuration.kafka.bootstrapServers
        producer = try KafkaProducer(configuration: KafkaConfiguration(kafka))
        kafka["group.id"] = configuration.kafka.groupID
        let consumer = try KafkaConsumer(configuration: KafkaConfiguration(kafka), handler: self)
        self.consumer = consumer
        let committer = BatchCommitter<ProcessedBatch> { [unowned self] in try commit($0) }
        self.committer = committer
        defer { committer.finish() }
        do {
            // A schema this binary does not match stops the start, with the reason.
            let newer = try database.run("schema check") { try DatabaseMigrations.verify(on: $0) }
            if !newer.isEmpty { logger.warning("the database has migrations this binary does not know: \(newer); a newer release migrated it") }
            try database.run("model registry") { try adoptRegisteredVersions(on: $0) }
        } catch is DatabaseSession.Stopped {
            logger.info("stopped before PostgreSQL could be reached")
            return
        }
        try consumer.subscribe(configuration.topics)
        status.setSubscribed(true)
        logger.info("consuming \(configuration.topics) as group \(configuration.kafka.groupID)")

        var lastLag = ContinuousClock.now
        while !status.stopRequested {
            let now = ContinuousClock.now
            switch consumer.poll(timeout: batch.pollTimeout(at: now, idle: .milliseconds(100))) {
            case .message(let message)?:
                batch.add(message, at: ContinuousClock.now)
            case .error(let error)?:
                logger.warning("Kafka: \(error)")
            case nil:
                break
            }
            if batch.isDue(at: ContinuousClock.now) { try flush() }
            if ContinuousClock.now - lastLag > .seconds(1) {
                let lags = consumer.lag()
                metrics.lag(lags)
                status.setLag(lags.values.reduce(0, +) + Int64(batch.count))
                lastLag = ContinuousClock.now
            }
            producer?.poll()  // the dead letters' delivery reports
        }
        try flush()
        try committer.drain()
        status.setSubscribed(false)
        consumer.close()  // revokes (nothing pending) and leaves the group at once
        // The dead letters' last copies on Kafka, for a bounded time: the table has them all.
        do { try producer?.flush(timeout: .seconds(5)) } catch {
            logger.warning("dead letters not all confirmed on their topics before exit (\(error)); the dead_letters table has them")
        }
        logger.info("consumer stopped")
    }

    /// Serves, for each classifier, the registry's active version (registering the one loaded
    /// from disk when the registry does not know it yet), before the first event is consumed.
    private func adoptRegisteredVersions(on connection: PostgresConnection) throws {
        let registry = ModelRegistry(connection: connection)
        for classifier in processor.classifiers {
            let chosen = try registry.adopt(classifier, metrics: nil)
            if served.offer(chosen) {
                logger.notice("model \(chosen.settings.name): serving the registry's active version \(chosen.settings.version)")
            }
        }
        swapInWaitingVersions()
    }

    /// Swaps in the versions the watcher or the registry made waiting: between two batches, so
    /// that every batch is classified by one version, which its predictions record.
    private func swapInWaitingVersions() {
        for classifier in served.takeWaiting() {
            processor = processor.replacing(classifier)
            metrics.modelSwapped(model: classifier.settings.name, version: classifier.settings.version)
            logger.notice("model \(classifier.settings.name) \(classifier.settings.version) now serving")
        }
    }

    /// Processes the records in hand and hands them to the committer. Records that an earlier
    /// attempt never finished with (the daemon crashed or hung) go one by one, so that the one
    /// to blame is found; one that has brought it down `maxAttempts` times is quarantined.
    private func flush() throws {
        guard !batch.isEmpty else { return }
        swapInWaitingVersions()
        let messages = batch.take()
        for (topic, group) in Dictionary(grouping: messages, by: \.topic) { metrics.consumed(group.count, topic: topic) }
        do {
            let unfinished = try attemptsSession.run("attempt count") { try attempts.unfinishedAttempts(at: messages, on: $0) }
            guard !unfinished.isEmpty else { return try process(messages) }
            logger.warning("\(unfinished.count) of \(messages.count) records were in an attempt that never finished; trying them one by one")
            for message in messages {
                let tries = unfinished[AttemptLog.Position(message)] ?? 0
                if tries < configuration.batch.maxAttempts {
                    try process([message])
                } else {
                    let reason = "processing it crashed or hung the daemon \(tries) times; quarantined without processing"
                    logger.error("quarantined \(message.topicPartition)@\(message.offset): \(reason)")
                    let letter = DeadLetter(code: EventError.Code.quarantined.rawValue, reason: reason)
                    try submit([ProcessedEvent(source: EventSource(message), raw: message.value, payload: .deadLetter(letter))],
                               from: [message], started: .now)
                }
                // Each record committed before the next is tried: should the next bring the daemon
                // down, this one's attempt must already be finished, or it would count against a
                // record that did no harm (and after enough crashes be quarantined with the culprit).
                try committer!.drain()
            }
        } catch is DatabaseSession.Stopped {
            logger.warning("stopping before \(messages.count) records could be processed; they will be consumed again")
        }
    }

    /// Records the attempt, processes `messages` under the watchdog, and hands them over.
    private func process(_ messages: [KafkaMessage]) throws {
        let started = ContinuousClock.now
        try attemptsSession.run("attempt record") { try attempts.record(messages, on: $0) }
        let processed = watchdog.guarding(records: messages.count) {
            Failpoints.processingBatch()
            return processor.process(messages)
        }
        try submit(processed, from: messages, started: started)
    }

    private func submit(_ processed: [ProcessedEvent], from messages: [KafkaMessage], started: ContinuousClock.Instant) throws {
        status.batchSubmitted()
        try committer!.submit(ProcessedBatch(processed: processed, next: BatchState.nextOffsets(of: messages), started: started))
    }

    /// On the committer's thread: dead letters, then results and offsets in one transaction.
    private func commit(_ batch: ProcessedBatch) throws {
        let (processed, next, started) = (batch.processed, batch.next, batch.started)
        publishDeadLetters(processed)
        let summary: ResultWriter.Summary
        do {
            summary = try database.run("batch commit") { try write(processed, advancing: next, on: $0) }
        } catch is DatabaseSession.Stopped {
            logger.warning("stopping before \(processed.count) records could be committed; they will be consumed again")
            return
        }
        status.batchCommitted()
        consumer?.commit(next)
        metrics.processed(kind: "image", count: summary.images)
        metrics.processed(kind: "report", count: summary.reports)
        metrics.duplicates(summary.duplicates)
        for (code, count) in summary.deadLetterCodes { metrics.deadLettered(code: code, count: count) }
        metrics.predicted(processed)
        metrics.batchDuration.record(ContinuousClock.now - started)
        if summary.skipped > 0 { logger.info("skipped \(summary.skipped) records already committed") }
        if summary.duplicates > 0 { logger.info("\(summary.duplicates) events were copies of events already written (same event_id); written once") }
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
            logger.warning("batch refused (\(error)); writing its events one by one")
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
        guard let producer else { return }
        if let failure = producer.takeDeliveryFailure() {
            logger.error("an earlier dead letter did not reach its topic (\(failure)); the dead_letters table has it")
        }
        for event in events {
            guard case .deadLetter(let letter) = event.payload else { continue }
            logger.notice("dead letter \(event.source.topicPartition)@\(event.source.offset): \(letter.code): \(letter.reason)")
            let headers: [(String, [UInt8])] = [
                ("radstream.origin.topic", Array(event.source.topic.utf8)),
                ("radstream.origin.partition", Array(String(event.source.partition).utf8)),
                ("radstream.origin.offset", Array(String(event.source.offset).utf8)),
                ("radstream.error.code", Array(letter.code.utf8)),
                ("radstream.error.message", Array(letter.reason.prefix(1000).utf8)),
            ]
            do {
                try producer.send(topic: configuration.deadLetterTopic(for: event.source.topic),
                                  key: event.source.key.map { Array($0.utf8) }, value: event.raw, headers: headers,
                                  waitingAtMost: .seconds(1))
            } catch {
                logger.error("cannot publish dead letter \(event.source.topicPartition)@\(event.source.offset): \(error); the dead_letters table has it")
            }
        }
        producer.poll()
    }

    // MARK: RebalanceHandler — runs inside `poll`, on this thread.

    func partitionsAssigned(_ partitions: [TopicPartition]) -> Assignment {
        do {
            try committer?.drain()  // the session is the committer's until it is idle
            let stored = try database.run("offset lookup") { try offsets.storedOffsets(for: partitions, on: $0) }
            var assignment = Assignment(offsets: [:])
            var held: [String] = []
            for partition in partitions {
                guard let next = stored[partition] else {
                    assignment.offsets[partition] = OffsetStore.beginning
                    continue
                }
                assignment.offsets[partition] = next
                let watermarks: (low: Int64, high: Int64)
                do {
                    guard let consumer else { continue }
                    watermarks = try consumer.watermarks(of: partition, timeout: .seconds(5))
                } catch {
                    logger.warning("cannot check \(partition)'s stored offset \(next) against its end: \(error)")
                    continue
                }
                let (low, high) = watermarks
                if next > high {
                    // The partition's log is shorter than what was consumed of it: the topic was
                    // recreated (or another cluster answers). Consuming from the stored offset
                    // would make librdkafka fall back to the log's beginning and every new record
                    // would be skipped as already done.
                    let numbers = "\(partition): PostgreSQL's next offset is \(next) but the partition ends at \(high) (begins at \(low))"
                    if configuration.kafka.resetOffsetsBeyondEnd {
                        try database.run("offset reset") { try offsets.reset(partition, to: low, on: $0) }
                        assignment.offsets[partition] = low
                        metrics.offsetReset(partition)
                        logger.error("\(numbers); kafka.resetOffsetsBeyondEnd is set: consuming it again from \(low)")
                    } else {
                        assignment.held.insert(partition)
                        held.append(numbers)
                        logger.error("""
                            \(numbers): not consuming it. Was the topic recreated? Set kafka.resetOffsetsBeyondEnd \
                            (RADSTREAM_RESET_OFFSETS_BEYOND_END=true) to consume it from its beginning
                            """)
                    }
                } else if next < low {
                    logger.warning("\(partition): records \(next)..<\(low) were deleted by the broker before they were consumed")
                }
            }
            status.setHeldPartitions(held)
            metrics.heldPartitions(held.count)
            logger.info("assigned \(partitions.count) partitions; resuming from PostgreSQL offsets")
            return assignment
        } catch {
            // Stopping before PostgreSQL answered: nothing will be consumed anyway.
            return Assignment(offsets: [:], held: Set(partitions))
        }
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) {
        // Finish what was read from these partitions before they move to another consumer.
        do {
            try flush()
            try committer?.drain()
        } catch {
            logger.error("could not commit before revocation: \(error); the new owner will redo it")
            batch.drop(partitions: Set(partitions))
        }
        status.setHeldPartitions([])
        metrics.heldPartitions(0)
        logger.info("revoked \(partitions.count) partitions")
    }
}
