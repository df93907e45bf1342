import Dispatch
import Foundation
import Postgres

/// The dashboard's reads, on the `dashboard` views only (so that it runs as the reader role).
/// libpq blocks, so every read runs on one serial queue with one connection, off the server's
/// event loops; a connection that failed is opened again on the next read.
final class DashboardStore: @unchecked Sendable {  // the connection is touched on `queue` only
    private let conninfo: String
    private let queue = DispatchQueue(label: "radstream.dashboard.database")
    private var connection: PostgresConnection?

    init(conninfo: String) {
        self.conninfo = conninfo
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in
                do {
                    let live = try connection.flatMap { $0.isConnected ? $0 : nil } ?? PostgresConnection(conninfo)
                    connection = live
                    continuation.resume(returning: try body(live))
                } catch {
                    connection = nil
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}

/// Rows as the pages want them.
enum DashboardRows {
    static func date(_ text: String?) -> Date? {
        text.flatMap(Double.init).map { Date(timeIntervalSince1970: $0) }
    }

    /// (time, series name, value) rows of a query whose first column is `extract(epoch FROM …)`.
    static func series(_ rows: PostgresRows) -> [SVGChart.Series] {
        var byName: [String: [(Date, Double)]] = [:]
        for row in rows.rows {
            guard let time = date(row[0]), let name = row[1], let value = row[2].flatMap(Double.init) else { continue }
            byName[name, default: []].append((time, value))
        }
        return byName.keys.sorted().map { SVGChart.Series(name: $0, points: byName[$0]!.map { (time: $0.0, value: $0.1) }) }
    }
}
