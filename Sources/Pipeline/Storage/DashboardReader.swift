import Postgres

/// The role dashboards log in as: SELECT on the views of the `dashboard` schema and nothing
/// else — not the tables under them, so not the events' payloads, the dead letters' bodies or
/// the models' weights. The views run with their owner's rights, which is how it reads them.
public enum DashboardReader {
    public static let schema = "dashboard"

    /// A name PostgreSQL takes as it is, unquoted (so that the role is spelled the same in a
    /// connection string): lower-case letters, digits and underscores, not starting with a digit.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLowercase || first == "_", name.count <= 63 else { return false }
        return name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" }
    }

    /// Creates the role when it does not exist (with `password`, or none: local trust or peer
    /// authentication), and grants it the dashboard's views, present and to come. Running it
    /// again changes nothing but the password.
    public static func create(_ name: String, password: String?, on connection: PostgresConnection) throws {
        guard isValidName(name) else { throw ConfigurationError("\(name) is not a role name (lower-case letters, digits, _)") }
        try connection.transaction { connection in
            let exists = try connection.execute("SELECT count(*) FROM pg_roles WHERE rolname = $1", [.text(name)]).scalarInt == 1
            if !exists { try connection.execute("CREATE ROLE \(name) LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE") }
            if let password {
                // The password goes as a literal PostgreSQL quotes itself, never into a log line.
                let literal = try connection.execute("SELECT quote_literal($1)", [.text(password)]).scalar ?? "''"
                try connection.execute("ALTER ROLE \(name) PASSWORD \(literal)")
            }
            let database = try connection.execute("SELECT current_database()").scalar ?? ""
            try connection.execute("GRANT CONNECT ON DATABASE \"\(database)\" TO \(name)")
            try connection.execute("GRANT USAGE ON SCHEMA \(schema) TO \(name)")
            try connection.execute("GRANT SELECT ON ALL TABLES IN SCHEMA \(schema) TO \(name)")
            try connection.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA \(schema) GRANT SELECT ON TABLES TO \(name)")
        }
    }

    /// The dashboard's views, by name.
    public static func views(on connection: PostgresConnection) throws -> [String] {
        try connection.execute("SELECT table_name FROM information_schema.views WHERE table_schema = $1 ORDER BY 1",
                               [.text(schema)]).rows.compactMap { $0[0] }
    }
}
