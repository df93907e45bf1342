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
