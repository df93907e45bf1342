import CPostgres
import Foundation

/// One libpq connection, owned by one thread at a time (the thread that runs its batches).
///
/// `@unchecked Sendable` so it can be handed to that thread; it is never used from two at once.
public final class PostgresConnection: @unchecked Sendable {
    private let connection: OpaquePointer
    public let conninfo: String

    /// The statements this connection's pipelines have prepared, by their text and parameter
    /// types. A stream's writer sends the same few statements batch after batch; sent unnamed,
    /// each was parsed, analysed and planned again (two fifths of PostgreSQL's CPU under the
    /// image stream, perf). Prepared statements outlive a rolled-back transaction and die with
    /// the connection, which is how long this lasts.
    private var preparedStatements: [PreparedKey: String] = [:]
    /// Names given so far: a name is never given twice, whatever became of its preparation.
    private var statementsNamed = 0
    /// Beyond this many, statements are sent unnamed again: texts that never repeat must not
    /// fill the server's memory.
    static let maxPreparedStatements = 128

    struct PreparedKey: Hashable {
        let sql: String
        let types: [Oid]
    }

    public init(_ conninfo: String) throws(PostgresError) {
        self.conninfo = conninfo
        guard let connection = PQconnectdb(conninfo) else { throw PostgresError(.connection, "PQconnectdb returned nothing") }
        self.connection = connection
        // On failure `deinit` runs (every stored property is set) and frees the handle.
        guard PQstatus(connection) == CONNECTION_OK else {
            throw PostgresError(.connection, Self.text(PQerrorMessage(connection)))
        }
    }

    deinit {
        PQfinish(connection)
    }

    public var isConnected: Bool { PQstatus(connection) == CONNECTION_OK }

    /// Runs one statement with `$1…$n` parameters and returns its rows.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [PostgresValue] = []) throws(PostgresError) -> PostgresRows {
        guard isConnected else { throw PostgresError(.connection, "connection is not open", sql: sql) }
        let result = Self.withParameters(parameters) { values, lengths, formats, types in
            PQexecParams(connection, sql, Int32(parameters.count), types, values, lengths, formats, 0)
        }
        guard let result else { throw PostgresError(.connection, Self.text(PQerrorMessage(connection)), sql: sql) }
        defer { PQclear(result) }
        return try rows(of: result, sql: sql)
    }

    /// Sends many statements before reading any result (libpq's pipeline mode): one round trip
    /// instead of one per statement. Returns each statement's rows; the first failure is thrown
    /// after every result is read, and inside a transaction it leaves the transaction aborted.
    public func pipeline(_ statements: [(sql: String, parameters: [PostgresValue])]) throws(PostgresError) -> [PostgresRows] {
        guard isConnected else { throw PostgresError(.connection, "connection is not open") }
        guard PQenterPipelineMode(connection) == 1 else {
            throw PostgresError(.connection, Self.text(PQerrorMessage(connection)))
        }
        defer { PQexitPipelineMode(connection) }
        // The statements prepared by this pipeline, by the index of the first that uses them:
        // known to the connection only once PostgreSQL has answered that it prepared them.
        var preparing: [Int: (key: PreparedKey, name: String)] = [:], named: [PreparedKey: String] = [:]
        for (index, statement) in statements.enumerated() {
            let count = Int32(statement.parameters.count)
            let sent = Self.withParameters(statement.parameters) { values, lengths, formats, types in
                let key = PreparedKey(sql: statement.sql, types: Array(UnsafeBufferPointer(start: types, count: Int(count))))
                if let name = preparedStatements[key] ?? named[key] {
                    return PQsendQueryPrepared(connection, name, count, values, lengths, formats, 0)
                }
                guard preparedStatements.count + named.count < Self.maxPreparedStatements else {
                    return PQsendQueryParams(connection, statement.sql, count, types, values, lengths, formats, 0)
                }
                let name = "radstream_\(statementsNamed)"
                statementsNamed += 1
                guard PQsendPrepare(connection, name, statement.sql, count, types) == 1 else { return 0 }
                (preparing[index], named[key]) = ((key, name), name)
                return PQsendQueryPrepared(connection, name, count, values, lengths, formats, 0)
            }
            guard sent == 1 else { throw PostgresError(.connection, Self.text(PQerrorMessage(connection)), sql: statement.sql) }
        }
        guard PQpipelineSync(connection) == 1 else { throw PostgresError(.connection, Self.text(PQerrorMessage(connection))) }

        var results: [PostgresRows] = []
        var failure: PostgresError?
        for (index, statement) in statements.enumerated() {
            if let (key, name) = preparing[index] {
                // The preparation's own result comes first, then a NULL that ends it.
                guard let prepared = PQgetResult(connection) else {
                    throw PostgresError(.connection, Self.text(PQerrorMessage(connection)), sql: statement.sql)
                }
                if PQresultStatus(prepared) == PGRES_COMMAND_OK {
                    preparedStatements[key] = name
                } else if PQresultStatus(prepared) != PGRES_PIPELINE_ABORTED {
                    do { _ = try rows(of: prepared, sql: statement.sql) } catch { failure = failure ?? error }
                }
                PQclear(prepared)
                while let extra = PQgetResult(connection) { PQclear(extra) }
            }
            // Each statement's result, then a NULL that ends it.
            guard let result = PQgetResult(connection) else {
                throw PostgresError(.connection, Self.text(PQerrorMessage(connection)), sql: statement.sql)
            }
            if PQresultStatus(result) == PGRES_PIPELINE_ABORTED {
                results.append(PostgresRows(columns: [], rows: [], affected: 0))
            } else {
                do { results.append(try rows(of: result, sql: statement.sql)) } catch {
                    failure = failure ?? error
                    results.append(PostgresRows(columns: [], rows: [], affected: 0))
                }
            }
            PQclear(result)
            while let extra = PQgetResult(connection) { PQclear(extra) }
        }
        guard let sync = PQgetResult(connection) else {
            throw PostgresError(.connection, Self.text(PQerrorMessage(connection)))
        }
        let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
        PQclear(sync)
        guard synced else { throw PostgresError(.connection, "pipeline out of step: no sync result") }
        if let failure { throw failure }
        return results
    }

    /// Runs statements without parameters, several at once (migrations).
    public func executeScript(_ sql: String) throws(PostgresError) {
        guard let result = PQexec(connection, sql) else {
            throw PostgresError(.connection, Self.text(PQerrorMessage(connection)), sql: sql)
        }
        defer { PQclear(result) }
        _ = try rows(of: result, sql: sql)
    }

    /// Runs `body` in a transaction: committed if it returns, rolled back if it throws.
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let value = try body(self)
            try execute("COMMIT")
            return value
        } catch {
            if isConnected { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    // For `notifications(timeout:)`: the socket to wait on, and libpq's queue of notifications.
    var socketDescriptor: Int32 { PQsocket(connection) }
    var lastErrorMessage: String { Self.text(PQerrorMessage(connection)) }
    func consumeInput() -> Bool { PQconsumeInput(connection) == 1 }

    func nextNotification() -> PostgresNotification? {
        guard let notice = PQnotifies(connection) else { return nil }
        defer { PQfreemem(notice) }
        return PostgresNotification(channel: String(cString: notice.pointee.relname), payload: String(cString: notice.pointee.extra))
    }

    private func rows(of result: OpaquePointer, sql: String) throws(PostgresError) -> PostgresRows {
        let status = PQresultStatus(result)
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            break
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = Self.text(PQresultErrorMessage(result))
            let code: PostgresError.Code = isConnected ? .statement : .connection
            throw PostgresError(code, message, sqlState: state, sql: sql)
        }
        let columnCount = Int(PQnfields(result)), rowCount = Int(PQntuples(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            rows.append((0..<Int32(columnCount)).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            })
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, rows: rows, affected: affected)
    }

    /// Lays parameters out as libpq wants them: parallel C arrays pointing into one buffer that
    /// stays alive for the call.
    private static func withParameters<R>(
        _ parameters: [PostgresValue],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?, UnsafePointer<Oid>?) -> R
    ) -> R {
        var storage: [CChar] = []
        var offsets: [Int?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        var types: [Oid] = []
        for parameter in parameters {
            switch parameter {
            case .text(let string):
                offsets.append(storage.count); storage.append(contentsOf: string.utf8CString)
                lengths.append(0); formats.append(0); types.append(0)
            case .int(let value):
                offsets.append(storage.count); storage.append(contentsOf: String(value).utf8CString)
                lengths.append(0); formats.append(0); types.append(20)
            case .bytea(let bytes):
                offsets.append(storage.count); storage.append(contentsOf: bytes.map { CChar(bitPattern: $0) })
                lengths.append(Int32(bytes.count)); formats.append(1); types.append(17)
            case .null:
                offsets.append(nil); lengths.append(0); formats.append(0); types.append(0)
            }
        }
        storage.append(0)  // so that an empty bytea at the end still has an address
        return storage.withUnsafeBufferPointer { buffer in
            let pointers: [UnsafePointer<CChar>?] = offsets.map { offset in offset.map { buffer.baseAddress! + $0 } }
            return body(pointers, lengths, formats, types)
        }
    }

    private static func text(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "unknown error"
    }
}
