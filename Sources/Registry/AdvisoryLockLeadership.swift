import Postgres
import SelfTraining

/// Leadership as a PostgreSQL session advisory lock held on one connection: it ends with the
/// connection should the process die, and the next instance to ask takes it.
public struct AdvisoryLockLeadership: Leadership {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    public func take(_ key: String) throws -> Bool {
        try connection.execute("SELECT pg_try_advisory_lock(hashtext($1))", [.text(key)]).scalar == "t"
    }

    public func release(_ key: String) throws {
        _ = try connection.execute("SELECT pg_advisory_unlock(hashtext($1))", [.text(key)])
    }
}
