import ArgumentParser
import Pipeline
import Postgres

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the SQL migrations of schemas/migrations that the database lacks.",
        discussion: "Each migration runs in its own transaction and is recorded in schema_migrations; running it again changes nothing.\n\nExample: radstream migrate --postgres \"host=db.example dbname=radstream user=radstream\"")

    @OptionGroup var options: ConfigurationOptions
    @Option(help: "libpq connection string; overrides the configuration.") var postgres: String?

    func run() throws {
        let configuration = try options.load()
        let connection = try PostgresConnection(postgres ?? configuration.postgres.conninfo)
        let applied = try DatabaseMigrations.apply(on: connection)
        if applied.isEmpty {
            print("migrate: the database is up to date")
        } else {
            for migration in applied { print("migrate: applied \(migration.version) \(migration.name)") }
        }
    }
}
