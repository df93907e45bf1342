import ChildProcesses
import Foundation
import Kafka
import Pipeline
import Postgres

/// The embedded broker and a private PostgreSQL, started together for the demo, the benchmarks,
/// the experiments and the drill.
public struct LocalStack: Sendable {
    public let broker: EmbeddedBroker
    public let postgres: LocalPostgresServer
    public var configuration: RadStreamConfiguration

    /// Starts both; `directory` holds the PostgreSQL cluster and is recreated.
    public static func start(directory: URL, partitions: Int, durable: Bool, log: (String) -> Void) throws -> LocalStack {
        log("starting the embedded Kafka broker (3 brokers)")
        var configuration = RadStreamConfiguration.standard
        let broker = try EmbeddedBroker.start(for: configuration, brokers: 3, partitions: partitions)
        configuration.kafka.bootstrapServers = broker.bootstrapServers
        configuration.http.port = 0

        log("starting a private PostgreSQL in \(directory.path)")
        if try LocalPostgresServer(dataDirectory: directory).stopIfRunning() {
            log("stopped the PostgreSQL an earlier run left running in \(directory.path)")
        }
        try? FileManager.default.removeItem(at: directory)
        let postgres = try LocalPostgresServer(dataDirectory: directory, durable: durable)
        try postgres.start()
        do {
            configuration.postgres.conninfo = postgres.conninfo
            try DatabaseMigrations.apply(on: PostgresConnection(postgres.conninfo))
        } catch {
            try? postgres.stop()
            throw error
        }
        return LocalStack(broker: broker, postgres: postgres, configuration: configuration)
    }

    public func producer() throws -> KafkaProducer {
        var kafka = configuration.kafka.properties
        kafka["bootstrap.servers"] = configuration.kafka.bootstrapServers
        return try KafkaProducer(configuration: KafkaConfiguration(kafka))
    }

    public func stop() throws {
        try postgres.stop()
    }

    /// A stream of one run's own on the stack: topics `<name>.images` and `<name>.reports` (and
    /// their dead-letter twins) of `partitions` each, a consumer group and a migrated database
    /// named `name`. The configuration pointing at them, and a connection to the database.
    public func isolatedStream(_ name: String, partitions: Int) throws -> (configuration: RadStreamConfiguration, database: PostgresConnection) {
        var configuration = self.configuration
        configuration.kafka.imageTopic = "\(name).images"
        configuration.kafka.reportTopic = "\(name).reports"
        configuration.kafka.groupID = name
        for topic in configuration.topics {
            try broker.createTopic(topic, partitions: partitions)
            try broker.createTopic(configuration.deadLetterTopic(for: topic), partitions: partitions)
        }
        try PostgresConnection(postgres.conninfo).execute("CREATE DATABASE \(name)")
        configuration.postgres.conninfo = postgres.conninfo.replacingOccurrences(of: "dbname=radstream", with: "dbname=\(name)")
        let database = try PostgresConnection(configuration.postgres.conninfo)
        try DatabaseMigrations.apply(on: database)
        return (configuration, database)
    }

    /// `radstream serve` (`binary`) on `configuration`, as a child process: its configuration
    /// file and its log are `<name>.json` and `<name>.log` in `directory`.
    public static func startDaemon(_ binary: String, configuration: RadStreamConfiguration, name: String, in directory: URL) throws -> pid_t {
        let configFile = directory.appending(path: "\(name).json")
        try JSONEncoder().encode(configuration).write(to: configFile)
        return try ChildProcess.spawn(binary, ["serve", "--config", configFile.path], outputPath: directory.appending(path: "\(name).log").path)
    }
}

extension EmbeddedBroker {
    /// A cluster with RadStream's topics and their dead-letter twins.
    public static func start(for configuration: RadStreamConfiguration, brokers: Int, partitions: Int) throws -> EmbeddedBroker {
        let broker = try EmbeddedBroker(brokers: brokers)
        for topic in configuration.topics {
            try broker.createTopic(topic, partitions: partitions)
            try broker.createTopic(configuration.deadLetterTopic(for: topic), partitions: partitions)
        }
        return broker
    }
}
