import Foundation
import Kafka
import Pipeline
import Postgres

/// The embedded broker and a private PostgreSQL, started together for the demo and the benchmark.
struct LocalStack {
    let broker: EmbeddedBroker
    let postgres: LocalPostgresServer
    var configuration: RadStreamConfiguration

    /// Starts both; `directory` holds the PostgreSQL cluster and is recreated.
    static func start(directory: URL, partitions: Int, durable: Bool, log: (String) -> Void) throws -> LocalStack {
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

    func producer() throws -> KafkaProducer {
        var kafka = configuration.kafka.properties
        kafka["bootstrap.servers"] = configuration.kafka.bootstrapServers
        return try KafkaProducer(configuration: KafkaConfiguration(kafka))
    }

    func stop() throws {
        try postgres.stop()
    }
}
