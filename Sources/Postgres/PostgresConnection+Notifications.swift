import CPostgres
import Glibc

/// A message sent with `NOTIFY channel, payload` (or `pg_notify`) to a connection that listens.
public struct PostgresNotification: Sendable, Equatable {
    public let channel: String
    public let payload: String
}

extension PostgresConnection {
    /// Starts listening on `channel` (an identifier: letters, digits and underscores).
    public func listen(_ channel: String) throws(PostgresError) {
        guard !channel.isEmpty, channel.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || ($0 < 128 && isalnum(Int32($0)) != 0) }) else {
            throw PostgresError(.statement, "\(channel) is not a plain channel name")
        }
        try execute("LISTEN \(channel)")
    }

    /// The notifications that arrive within `timeout` (those already received first, without
    /// waiting). Waits on the connection's socket, so a thread can block here between checks of
    /// whether it should stop.
    public func notifications(timeout: Duration) throws(PostgresError) -> [PostgresNotification] {
        var received = try drainNotifications()
        guard received.isEmpty else { return received }
        var descriptor = pollfd(fd: socketDescriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&descriptor, 1, milliseconds) > 0 else { return [] }
        received = try drainNotifications()
        return received
    }

    private func drainNotifications() throws(PostgresError) -> [PostgresNotification] {
        guard consumeInput() else { throw PostgresError(.connection, lastErrorMessage) }
        var received: [PostgresNotification] = []
        while let notification = nextNotification() { received.append(notification) }
        return received
    }
}
