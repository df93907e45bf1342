import Logging
import Postgres

/// The consumer thread's PostgreSQL connection. When PostgreSQL cannot do the work — it is away,
/// or it refuses for a reason no event is to blame for (a schema older than the binary, a
/// revoked grant, a full disk, a read-only server) — the work waits and is retried on a new
/// connection, backing off from one second to `maxBackoff`, with the daemon not ready and the
/// reason on `/readyz`, until it succeeds or the daemon is stopping. Offsets never move meanwhile.
final class DatabaseSession {
    /// Whose connection it is, for the readiness reasons: the consumer's is `consumer`.
    let name: String
    static let consumer = "consumer"
    private let conninfo: String
    private let status: DaemonStatus
    private let metrics: DaemonMetrics?
    private let logger: Logger
    private let maxBackoff: Duration
    private let statementTimeout: Duration
    private var connection: PostgresConnection?

    init(_ name: String, conninfo: String, status: DaemonStatus, metrics: DaemonMetrics? = nil, maxBackoff: Duration = .seconds(30),
         statementTimeout: Duration = .seconds(30), logger: Logger) {
        self.statementTimeout = statementTimeout
        self.name = name
        self.conninfo = conninfo
        self.status = status
        self.metrics = metrics
        self.maxBackoff = maxBackoff
        self.logger = logger
    }

    struct Stopped: Error {}

    /// Runs `work` on a live connection, retrying every failure that is not the statement's own;
    /// throws `Stopped` if the daemon is asked to stop before it succeeds, and rethrows a failure
    /// that the statement's data caused (the caller decides which event is to blame) or any
    /// error that is not PostgreSQL's.
    func run<T>(_ what: String, _ work: (PostgresConnection) throws -> T) throws -> T {
        var failures = 0
        while true {
            do {
                let connection = try connected()
                let value = try work(connection)
                if failures > 0 { logger.notice("PostgreSQL answers again; \(what) succeeded after \(failures) failed attempts") }
                status.setDatabaseProblem(nil, of: name)
                return value
            } catch let error as PostgresError where !error.blamesTheStatement {
                // A fresh connection for the next attempt: the server may have restarted, been
                // promoted or had its settings changed, and a new session sees that.
                connection = nil
                failures += 1
                let backoff = min(maxBackoff, .seconds(1 << min(failures - 1, 10)))
                status.setDatabaseProblem("PostgreSQL cannot do the \(what): \(error)", of: name)
                metrics?.databaseFailed(sqlState: error.sqlState ?? error.code.rawValue)
                logger.warning("PostgreSQL cannot do the \(what) (attempt \(failures)); retrying in \(backoff): \(error)")
                if status.stopRequested { throw Stopped() }
                status.sleep(backoff)
                if status.stopRequested { throw Stopped() }
            }
        }
    }

    private func connected() throws -> PostgresConnection {
        if let connection, connection.isConnected { return connection }
        let fresh = try PostgresConnection(conninfo)
        // A statement blocked on a lock held elsewhere, or on a server that stopped answering,
        // is cancelled (SQLSTATE 57014) and retried instead of holding the daemon forever.
        try fresh.execute("SELECT set_config('statement_timeout', $1, false)",
                          [.text("\(statementTimeout.components.seconds * 1000 + statementTimeout.components.attoseconds / 1_000_000_000_000_000)")])
        connection = fresh
        return fresh
    }
}
