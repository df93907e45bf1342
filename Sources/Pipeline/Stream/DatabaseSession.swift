import Logging
import Postgres

/// The consumer thread's PostgreSQL connection. When the server goes away, work waits and is
/// retried on a new connection (once a second) until it succeeds or the daemon is stopping.
final class DatabaseSession {
    private let conninfo: String
    private let status: DaemonStatus
    private let logger: Logger
    private var connection: PostgresConnection?

    init(conninfo: String, status: DaemonStatus, logger: Logger) {
        self.conninfo = conninfo
        self.status = status
        self.logger = logger
    }

    struct Stopped: Error {}

    /// Runs `work` on a live connection, retrying transient failures; throws `Stopped` if the
    /// daemon is asked to stop while PostgreSQL is still away, and rethrows any other error.
    func run<T>(_ what: String, _ work: (PostgresConnection) throws -> T) throws -> T {
        var warned = false
        while true {
            do {
                let connection = try connected()
                let value = try work(connection)
                if warned { logger.info("PostgreSQL is back; \(what) succeeded") }
                status.setDatabaseUp(true)
                return value
            } catch let error as PostgresError where error.isTransient || !(connection?.isConnected ?? false) {
                connection = nil
                status.setDatabaseUp(false)
                if !warned { logger.warning("PostgreSQL unavailable during \(what), waiting: \(error)") }
                warned = true
                if status.stopRequested { throw Stopped() }
                status.sleep(.seconds(1))
            }
        }
    }

    private func connected() throws -> PostgresConnection {
        if let connection, connection.isConnected { return connection }
        let fresh = try PostgresConnection(conninfo)
        connection = fresh
        return fresh
    }
}
