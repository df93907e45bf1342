import ArgumentParser
import Logging
import Pipeline
import Postgres
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: consume events, write results and offsets to PostgreSQL, serve /healthz /readyz /metrics.",
        discussion: """
            Configuration: config/radstream.json (or --config), overridden by these variables \
            (every setting, its default and its variable: docs/configuration.md):
            \(environmentList)

            SIGTERM or SIGINT: the batch in hand is finished and committed, then the daemon exits.

            Example: radstream serve --config /etc/radstream/radstream.json --migrate
            """)

    /// One variable a line, its meaning on the next when both do not fit the 80 columns `--help` wraps at.
    private static var environmentList: String {
        RadStreamConfiguration.environmentVariables.map { variable in
            let line = "  \(variable.name): \(variable.meaning)"
            return line.count <= 78 ? line : "  \(variable.name):\n      \(variable.meaning)"
        }.joined(separator: "\n")
    }

    @OptionGroup var options: ConfigurationOptions
    @Flag(help: "Apply pending migrations before consuming.") var migrate = false

    func run() async throws {
        let configuration = try options.load()
        var logger = Logger(label: "radstream")
        logger.logLevel = .info
        if migrate { try DatabaseMigrations.apply(on: PostgresConnection(configuration.postgres.conninfo)) }
        try await Daemon.group(configuration: configuration, logger: logger).run()
    }
}

/// The daemon's services in one group, shut down together on SIGTERM or SIGINT.
enum Daemon {
    static func group(configuration: RadStreamConfiguration, logger: Logger,
                      onHTTPRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> ServiceGroup {
        let status = DaemonStatus(stallAfter: .seconds(configuration.batch.stallSeconds))
        let metrics = DaemonMetrics()
        let processor = try EventProcessor(configuration: configuration)
        for stage in processor.imageBatchStages { logger.info("model \(stage.name)") }
        try SelfTrainingScheduler.check(configuration, serving: processor.classifiers.map(\.name))
        let consumer = DaemonService(configuration: configuration, processor: processor,
                                     status: status, metrics: metrics, logger: logger)
        let http = HealthServer.application(configuration: configuration, status: status, metrics: metrics, logger: logger,
                                            onRunning: { port in
                                                logger.info("HTTP on \(configuration.http.host):\(port) (/healthz /readyz /metrics)")
                                                await onHTTPRunning(port)
                                            })
        return ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: consumer, successTerminationBehavior: .gracefullyShutdownGroup,
                          failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: http),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
    }
}
