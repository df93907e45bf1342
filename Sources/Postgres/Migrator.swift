/// A versioned SQL file: `0003_dead_letters.sql` is version 3, named "dead_letters".
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Parses `NNNN_name.sql`; nil for any other file name.
    public init?(fileName: String, sql: String) {
        guard fileName.hasSuffix(".sql"), let underscore = fileName.firstIndex(of: "_"),
              let version = Int(fileName[..<underscore]) else { return nil }
        self.init(version: version, name: String(fileName[fileName.index(after: underscore)...].dropLast(4)), sql: sql)
    }
}

/// Applies migrations in order, each in its own transaction, and records them in
/// `schema_migrations`. Running it again applies nothing; a recorded migration whose text has
/// changed since is an error, not a silent drift.
public struct Migrator {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Returns the migrations applied by this call.
    @discardableResult
    public func apply(_ migrations: [Migration]) throws -> [Migration] {
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """)
        // Two instances starting together must not both migrate.
        try connection.execute("SELECT pg_advisory_lock(hashtext('radstream.migrate'))")
        defer { _ = try? connection.execute("SELECT pg_advisory_unlock(hashtext('radstream.migrate'))") }

        let recorded = try connection.execute("SELECT version, checksum FROM schema_migrations")
        var checksums: [Int: String] = [:]
        for row in recorded.rows { if let version = row[0].flatMap({ Int($0) }) { checksums[version] = row[1] } }

        var applied: [Migration] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            let checksum = try connection.execute("SELECT md5($1)", [.text(migration.sql)]).scalar ?? ""
            if let existing = checksums[migration.version] {
                guard existing == checksum else {
                    throw PostgresError(.statement, "migration \(migration.version) (\(migration.name)) changed after it was applied")
                }
                continue
            }
            try connection.transaction { connection in
                try connection.executeScript(migration.sql)
                try connection.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                       [.int(migration.version), .text(migration.name), .text(checksum)])
            }
            applied.append(migration)
        }
        return applied
    }
}
