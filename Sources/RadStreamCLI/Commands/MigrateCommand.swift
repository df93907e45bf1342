import ArgumentParser
import Foundation
import Pipeline
import Postgres

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the SQL migrations of schemas/migrations that the database lacks.",
        discussion: """
            Each migration runs in its own transaction and is recorded in schema_migrations; running it again changes \
            nothing.

            With --create-reader-role NAME, also the role dashboards log in as (Grafana, `radstream dashboard`): \
            SELECT on the views of the dashboard schema only, not on the tables under them (no event payloads, no \
            dead-letter bodies, no model weights); created if missing, granted again otherwise. Its password, if it \
            needs one, is read from --reader-password-file (the first line), never from the command line.

            Example: radstream migrate --postgres "host=db.example dbname=radstream user=radstream" \
            --create-reader-role radstream_reader --reader-password-file /etc/radstream/reader-password
            """)

    @OptionGroup var options: ConfigurationOptions
    @Option(help: "libpq connection string; overrides the configuration.") var postgres: String?
    @Option(help: "Create (or grant again) the read-only role of the dashboards, by this name.") var createReaderRole: String?
    @Option(help: "A file whose first line is the reader role's password.") var readerPasswordFile: String?

    func validate() throws {
        if let createReaderRole, !DashboardReader.isValidName(createReaderRole) {
            throw ValidationError("--create-reader-role: \(createReaderRole) is not a role name (lower-case letters, digits and _)")
        }
        if readerPasswordFile != nil, createReaderRole == nil {
            throw ValidationError("--reader-password-file goes with --create-reader-role")
        }
    }

    func run() throws {
        let configuration = try options.load()
        let connection = try PostgresConnection(postgres ?? configuration.postgres.conninfo)
        let applied = try DatabaseMigrations.apply(on: connection)
        if applied.isEmpty {
            print("migrate: the database is up to date")
        } else {
            for migration in applied { print("migrate: applied \(migration.version) \(migration.name)") }
        }
        if let role = createReaderRole {
            let password = try readerPasswordFile.map { file in
                guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                      let line = text.split(separator: "\n").first.map(String.init), !line.isEmpty else {
                    throw CommandFailure("--reader-password-file: \(file) cannot be read or is empty")
                }
                return line
            }
            try DashboardReader.create(role, password: password, on: connection)
            print("migrate: role \(role) reads the views of schema \(DashboardReader.schema): "
                  + (try DashboardReader.views(on: connection)).joined(separator: ", "))
        }
    }
}
