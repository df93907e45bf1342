import Postgres
import Schemas

/// RadStream's own migrations, from `schemas/migrations`.
public enum DatabaseMigrations {
    public static func all() throws -> [Migration] {
        try SchemaFiles.migrations().map { file in
            guard let migration = Migration(fileName: file.fileName, sql: file.sql) else {
                throw ConfigurationError("schemas/migrations/\(file.fileName) is not named NNNN_name.sql")
            }
            return migration
        }
    }

    @discardableResult
    public static func apply(on connection: PostgresConnection) throws -> [Migration] {
        try Migrator(connection: connection).apply(all())
    }
}
