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

    public var description: String {
        var text = "PostgreSQL \(code.rawValue) error"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        if let sql { text += " (in: \(sql.prefix(120)))" }
        return text
    }
}
