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

extension DatabaseMigrations {
    /// The database's schema against this binary's migrations. A missing or altered migration is
    /// a fault no retry mends: the daemon must not start and blame every event for it.
    public struct SchemaMismatch: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Versions recorded in the database that this binary does not know (a newer binary migrated
    /// it); an older binary may still run beside it, so these are only reported.
    @discardableResult
    public static func verify(on connection: PostgresConnection) throws -> [Int] {
        let known = try all()
        let hint = "run `radstream migrate` (or `radstream serve --migrate`) with this binary"
        guard try connection.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").scalar == "t" else {
            throw SchemaMismatch(description: "the database has no RadStream schema (no schema_migrations table): \(hint)")
        }
        var recorded: [Int: String] = [:]
        for row in try connection.execute("SELECT version, checksum FROM schema_migrations").rows {
            if let version = row[0].flatMap({ Int($0) }) { recorded[version] = row[1] }
        }
        var missing: [Migration] = []
        for migration in known {
            guard let checksum = recorded[migration.version] else { missing.append(migration); continue }
            guard try connection.execute("SELECT md5($1)", [.text(migration.sql)]).scalar == checksum else {
                throw SchemaMismatch(description: """
                    migration \(migration.version) (\(migration.name)) in the database differs from this binary's: \
                    the binary and the schema come from different releases
                    """)
            }
        }
        if !missing.isEmpty {
            let newest = recorded.keys.max().map(String.init) ?? "none"
            throw SchemaMismatch(description: """
                the database's schema is older than this binary (newest migration applied: \(newest); missing: \
                \(missing.map { "\($0.version) (\($0.name))" }.joined(separator: ", "))): \(hint)
                """)
        }
        let knownVersions = Set(known.map(\.version))
        return recorded.keys.filter { !knownVersions.contains($0) }.sorted()
    }
}
