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

            SIGTERM or SIGINT: the batch in hand is finished and committed, then the daemon exits. \
            Exit 78: a configuration or database schema that no restart mends (docs/operations.md).

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
    @OptionGroup var log: LogOptions
    @Flag(help: "Apply pending migrations before consuming.") var migrate = false
    @Flag(help: "Print the configuration in force (file, then variables), secrets masked, and exit.") var printConfig = false

    /// EX_CONFIG: what is wrong is the configuration or the database's schema, which no restart
    /// mends (the systemd unit does not restart on it, as on a crash).
    static let configurationExitCode: Int32 = 78

    func run() async throws {
        let logger = try log.logger(label: "radstream", defaultLevel: .info)
        do {
            let configuration = try options.load()
            if printConfig {
                return try JSONOutput.print(configuration.masked)
            }
            if migrate { try DatabaseMigrations.apply(on: PostgresConnection(configuration.postgres.conninfo)) }
            try await Daemon.group(configuration: configuration, logger: logger).run()
        } catch let error as ConfigurationError {
            logger.critical("configuration: \(error)")
            throw ExitCode(Self.configurationExitCode)
        } catch let error as DatabaseMigrations.SchemaMismatch {
            logger.critical("database schema: \(error)")
            throw ExitCode(Self.configurationExitCode)
        }
    }
}
