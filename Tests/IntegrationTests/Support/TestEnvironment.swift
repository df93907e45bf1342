import Foundation
import Kafka
@testable import Pipeline
import Postgres
import TestSupport

/// The servers the integration tests share, started once per test process: a private
/// PostgreSQL (fsync off) and the embedded broker. Each test takes its own database and topics.
final class TestEnvironment: Sendable {
    let postgres: LocalPostgresServer
    let broker: EmbeddedBroker
    let root: URL

    static let shared: Result<TestEnvironment, any Error> = Result { try TestEnvironment() }

    static func get() throws -> TestEnvironment { try shared.get() }

    private init() throws {
        root = FileManager.default.temporaryDirectory.appending(path: "radstream-tests-\(getpid())")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        postgres = try LocalPostgresServer(dataDirectory: root.appending(path: "postgres"), durable: false)
        try postgres.start()
        broker = try EmbeddedBroker(brokers: 3)
        atexit { try? TestEnvironment.shared.get().postgres.stop() }
    }

    /// A fresh database migrated up to `version` (all of RadStream's migrations by default);
    /// returns its connection string.
    func makeDatabase(_ name: String, upTo version: Int = .max) throws -> String {
        let admin = try PostgresConnection("host=127.0.0.1 port=\(postgres.port) dbname=postgres user=radstream")
        try admin.execute("DROP DATABASE IF EXISTS \(name)")
        try admin.execute("CREATE DATABASE \(name)")
        let conninfo = "host=127.0.0.1 port=\(postgres.port) dbname=\(name) user=radstream connect_timeout=5"
        try Migrator(connection: PostgresConnection(conninfo)).apply(DatabaseMigrations.all().filter { $0.version <= version })
        return conninfo
    }

    /// A configuration for the tests of delivery (what is written, not what the models say): the
    /// summarizer and the captioner off (the debug build is slow with them), retries at most a
    /// second apart.
    func deliveryConfiguration(name: String, partitions: Int = 4, conninfo: String) throws -> RadStreamConfiguration {
        var configuration = try configuration(name: name, partitions: partitions, conninfo: conninfo)
        configuration.models.summarizeReports = false
        configuration.models.captionImages = false
        configuration.postgres.retryMaxSeconds = 1
        return configuration
    }

    /// Publishes good events `range` of the factory, each on its kind's topic, keyed by its study
    /// (or by `key`), and waits until the broker has them.
    func publish(_ range: Range<Int>, factory: EventFactory, configuration: RadStreamConfiguration, key: String? = nil) throws {
        let producer = try EventFactory.producer(for: broker.bootstrapServers)
        for index in range {
            let event = try factory.event(index)
            let topic = if case .image = event { configuration.kafka.imageTopic } else { configuration.kafka.reportTopic }
            try producer.send(topic: topic, key: Array((key ?? event.studyID).utf8), value: event.encoded())
        }
        try producer.flush()
    }

    /// Publishes events 0..<count of the factory on a thread of its own at `rate` per second;
    /// with `badEvery`, every such index is a malformed record instead (keyed `bad-<index>`).
    /// The semaphore is signalled when all are on the broker.
    func publishInBackground(count: Int, rate: Double, configuration: RadStreamConfiguration,
                             badEvery: Int? = nil) throws -> DispatchSemaphore {
        let factory = try EventFactory()
        let producer = try EventFactory.producer(for: broker.bootstrapServers)
        let done = DispatchSemaphore(value: 0)
        let (imageTopic, reportTopic) = (configuration.kafka.imageTopic, configuration.kafka.reportTopic)
        Thread.detachNewThread {
            let started = ContinuousClock.now
            for index in 0..<count {
                if let badEvery, index % badEvery == badEvery - 1 {
                    try? producer.send(topic: index % 2 == 0 ? reportTopic : imageTopic, key: Array("bad-\(index)".utf8),
                                       value: Array("{\"schema\": \"radstream.report.v1\", \"event_id\": ".utf8))
                } else if let event = try? factory.event(index) {
                    let topic = if case .image = event { imageTopic } else { reportTopic }
                    try? producer.send(topic: topic, key: Array(event.studyID.utf8), value: event.encoded())
                }
                let due = started + .seconds(Double(index + 1) / rate)
                let wait = due - ContinuousClock.now
                if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.components.attoseconds) / 1e18) }
            }
            try? producer.flush()
            done.signal()
        }
        return done
    }

    /// What `publishInBackground` leads to once every event is processed.
    static func expectedCounts(count: Int, badEvery: Int? = nil) -> Counts {
        var counts = Counts()
        for index in 0..<count {
            if let badEvery, index % badEvery == badEvery - 1 { counts.deadLetters += 1 }
            else if index % 2 == 0 { counts.reports += 1 } else { counts.images += 1 }
        }
        counts.distinctEvents = counts.images + counts.reports
        return counts
    }

    /// A configuration with topics and a group of its own, for one test.
    func configuration(name: String, partitions: Int = 4, conninfo: String) throws -> RadStreamConfiguration {
        var configuration = RadStreamConfiguration.standard
        configuration.kafka.bootstrapServers = broker.bootstrapServers
        configuration.kafka.imageTopic = "\(name).images"
        configuration.kafka.reportTopic = "\(name).reports"
        configuration.kafka.groupID = "\(name)-group"
        configuration.results.topic = "\(name).results"
        configuration.kafka.properties = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
        configuration.postgres.conninfo = conninfo
        configuration.batch = .init(maxEvents: 200, maxWaitMilliseconds: 100)
        configuration.http.port = 0
        configuration.models.directory = TestData.packageRoot.appending(path: "models").path
        // Greedy: the tests run the debug build, where a beam search on every report is slow.
        configuration.models.summaryDecoding = .greedy
        // The counterfactual worker's own tests turn it on; elsewhere it would only share the cores.
        configuration.counterfactuals.enabled = false
        for topic in configuration.topics {
            try broker.createTopic(topic, partitions: partitions)
            try broker.createTopic(configuration.deadLetterTopic(for: topic), partitions: partitions)
        }
        return configuration
    }
}

/// Paths the tests read: the shared data and the debug binary that `ops/test.sh` builds first.
enum Paths {
    static var data: URL { TestData.root }
    static var binary: URL { TestData.packageRoot.appending(path: ".build/debug/radstream") }
}
