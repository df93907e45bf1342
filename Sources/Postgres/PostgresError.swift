/// A libpq failure: the connection could not be made or was lost, or a statement failed.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case connection
        case statement
        case server
    }

    public let code: Code
    /// The SQLSTATE of a failed statement, e.g. "23505" for a unique violation.
    public let sqlState: String?
    public let message: String
    public let sql: String?

    public init(_ code: Code, _ message: String, sqlState: String? = nil, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.sql = sql
    }

    /// True when retrying on a new connection may succeed: the server went away or is starting,
    /// or a serialization conflict occurred.
    public var isTransient: Bool {
        if code == .connection { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || sqlState.hasPrefix("57P") || sqlState == "40001" || sqlState == "40P01"
    }

    /// True when the statement failed for what it carried: bad data (SQLSTATE class 22), a
    /// broken constraint (23) or a value past a limit of the server (54). Only such a failure
    /// may be blamed on one event. Anything else — a missing column or table (a schema older than
    /// the binary), a revoked grant, a full disk, a read-only server, an exhausted connection
    /// slot — is the infrastructure's, and every event would meet it alike.
    public var blamesTheStatement: Bool {
        guard code != .connection, let sqlState else { return false }
        return sqlState.hasPrefix("22") || sqlState.hasPrefix("23") || sqlState.hasPrefix("54")
    }

    public var description: String {
        var text = "PostgreSQL \(code.rawValue) error"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        if let sql { text += " (in: \(sql.prefix(120)))" }
        return text
    }
}
