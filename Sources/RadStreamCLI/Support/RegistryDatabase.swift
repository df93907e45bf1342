import ArgumentParser
import Postgres

/// The database that holds the model registry, as the commands that read or change it are told of it.
struct RegistryDatabase: ParsableArguments {
    @OptionGroup var options: ConfigurationOptions
    @Option(help: "libpq connection string; overrides the configuration.") var postgres: String?

    func connect() throws -> PostgresConnection {
        try Self.connect(postgres ?? options.load().postgres.conninfo)
    }

    /// A connection to a database that has the registry (migrations are `migrate`'s to apply, not a listing's).
    static func connect(_ conninfo: String) throws -> PostgresConnection {
        let connection = try PostgresConnection(conninfo)
        guard try connection.execute("SELECT to_regclass('model_registry') IS NOT NULL").scalar == "t" else {
            throw CommandFailure("the database has no model registry yet: run `radstream migrate` (or `serve --migrate`) first")
        }
        return connection
    }
}
