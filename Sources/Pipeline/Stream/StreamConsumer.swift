import Events
import Foundation
import Kafka
import Logging
import Postgres
import Registry
import SelfTraining

/// The consuming loop, run on a thread of its own (librdkafka polls and libpq calls block):
/// poll into a batch; process it; hand it to the committer, which publishes its dead letters,
/// writes results and offsets in one transaction and commits the offsets to Kafka too (for lag
/// monitoring) while the next batch is polled and processed. Repeat until asked to stop, then
/// finish the batch in hand, wait for its commit and leave the group.
///
/// What becomes of a processed batch is the `BatchSink`'s, on the committer's thread. The database
/// session is the sink's, except while the committer is drained: on assignment (offset lookups)
/// and on revocation (`StreamConsumer+Rebalance.swift`), so the two threads never share it.
final class StreamConsumer: RebalanceHandler {
    let configuration: RadStreamConfiguration
    /// Replaced between batches when a new version of a classifier is served.
    private var processor: EventProcessor
    private let served: ServedModels
    let status: DaemonStatus
    let metrics: DaemonMetrics
    let logger: Logger
    let database: DatabaseSession
    /// The consumer thread's own connection, for the attempts it records before processing
    /// (the committer's session is busy with the batch before).
    private let attemptsSession: DatabaseSession
    let attempts: AttemptLog
    /// Per assigned partition, the highest offset an earlier run's unfinished attempts cover (read
    /// on assignment): a batch wholly above it holds no record tried before, and needs no lookup.
    var unfinishedUpTo: [TopicPartition: Int64] = [:]
    private let watchdog: ProcessingWatchdog
    let offsets: OffsetStore
    var batch: BatchState
    var consumer: KafkaConsumer?
    var committer: BatchCommitter<ProcessedBatch>?

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
        offsets = OffsetStore(group: configuration.kafka.groupID)
        batch = BatchState(maxEvents: configuration.batch.maxEvents, maxBytes: configuration.batch.maxBytes,
                           maxWait: .milliseconds(configuration.batch.maxWaitMilliseconds))
        for model in processor.servedModels { metrics.serving(model: model.name, version: model.version, replacing: nil) }
    }

    func run() throws {
        var kafka = configuration.kafka.properties
        kafka["bootstrap.servers"] = configuration.kafka.bootstrapServers
        let producer = try KafkaProducer(configuration: KafkaConfiguration(kafka))
        kafka["group.id"] = configuration.kafka.groupID
        // librdkafka's own view (brokers' round trips, rebalances) into /metrics, every 30 s unless set.
        if kafka["statistics.interval.ms"] == nil { kafka["statistics.interval.ms"] = "30000" }
        let consumer = try KafkaConsumer(configuration: KafkaConfiguration(kafka), handler: self,
                                         statistics: { [metrics] in metrics.kafkaStatistics($0) })
        self.consumer = consumer
        let sink = BatchSink(configuration: configuration, database: database, deadLetters: producer, status: status, metrics: metrics,
                             logger: logger, commitToKafka: { [unowned consumer] in consumer.commit($0) })
        let committer = BatchCommitter<ProcessedBatch> { try sink.commit($0) }
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
        logger.info("consuming", metadata: ["topics": .array(configuration.topics.map { "\($0)" }), "group": "\(configuration.kafka.groupID)"])

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
                status.setLag(lags, inHand: batch.count)
                lastLag = ContinuousClock.now
            }
            producer.poll()  // the dead letters' delivery reports
        }
        try flush()
        try committer.drain()
        status.setSubscribed(false)
        consumer.close()  // revokes (nothing pending) and leaves the group at once
        sink.flushDeadLetters()
        logger.info("consumer stopped")
    }

    /// Serves, for each classifier, the registry's active version (registering the one loaded
    /// from disk when the registry does not know it yet), before the first event is consumed.
    private func adoptRegisteredVersions(on connection: PostgresConnection) throws {
        let registry = ModelRegistry(connection: connection)
        for classifier in processor.classifiers {
            let chosen = try registry.adopt(classifier, metrics: nil)
            if served.offer(chosen) {
                logger.notice("model \(chosen.name): serving the registry's active version \(chosen.version)")
            }
        }
        swapInWaitingVersions()
    }

    /// Swaps in the versions the watcher or the registry made waiting: between two batches, so
    /// that every batch is classified by one version, which its predictions record.
    private func swapInWaitingVersions() {
        for classifier in served.takeWaiting() {
            let old = processor.classifiers.first { $0.name == classifier.name }?.version
            processor = processor.replacing(classifier)
            metrics.modelSwapped(model: classifier.name, version: classifier.version)
            if old != classifier.version { metrics.serving(model: classifier.name, version: classifier.version, replacing: old) }
            logger.notice("model \(classifier.name) \(classifier.version) now serving\(classifier.gate == nil ? " (no applicability gate: its films are not judged)" : "")")
        }
    }

    /// Processes the records in hand and hands them to the committer. Records that an earlier
    /// attempt never finished with (the daemon crashed or hung) go one by one, so that the one
    /// to blame is found; one that has brought it down `maxAttempts` times is quarantined.
    func flush() throws {
        guard !batch.isEmpty else { return }
        swapInWaitingVersions()
        let messages = batch.take()
        for (topic, group) in Dictionary(grouping: messages, by: \.topic) { metrics.consumed(group.count, topic: topic) }
        do {
            let triedBefore = messages.contains { message in unfinishedUpTo[message.topicPartition].map { message.offset <= $0 } ?? false }
            guard triedBefore else { return try process(messages) }
            let unfinished = try attemptsSession.run("attempt count") { try attempts.unfinishedAttempts(at: messages, on: $0) }
            guard !unfinished.isEmpty else { return try process(messages) }
            logger.warning("records were in an attempt that never finished; trying them one by one",
                           metadata: ["records": "\(unfinished.count)", "batch_size": "\(messages.count)"])
            for message in messages {
                let tries = unfinished[AttemptLog.Position(message)] ?? 0
                if tries < configuration.batch.maxAttempts {
                    try process([message])
                } else {
                    let reason = "processing it crashed or hung the daemon \(tries) times; quarantined without processing"
                    logger.error("quarantined: \(reason)", metadata: message.logMetadata)
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
            return processor.process(messages, timed: metrics.stageTook)
        }
        try submit(processed, from: messages, started: started)
    }

    private func submit(_ processed: [ProcessedEvent], from messages: [KafkaMessage], started: ContinuousClock.Instant) throws {
        status.batchSubmitted()
        try committer!.submit(ProcessedBatch(processed: processed, next: BatchState.nextOffsets(of: messages), started: started))
    }
}
