import Foundation
import Postgres
import Testing

/// The pipeline prepares each statement once per connection and runs it by name after: the same
/// rows as sent unnamed, and a statement that fails to prepare is not taken for prepared.
@Suite("PostgreSQL pipelines", .serialized)
struct PostgresPipelineTests {
    static func connection(_ name: String) throws -> PostgresConnection {
        let conninfo = try TestEnvironment.get().makeDatabase(name)
        let connection = try PostgresConnection(conninfo)
        try connection.execute("CREATE TABLE notes (id bigint PRIMARY KEY, body text, blob bytea)")
        return connection
    }

    static let insert = "INSERT INTO notes (id, body, blob) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id"

    @Test func aStatementIsPreparedOnceAndRunByNameAfter() throws {
        let connection = try Self.connection("pipeline_prepared")
        let first = try connection.pipeline((0..<3).map { (Self.insert, [.int($0), .text("note \($0)"), .bytea([UInt8($0)])]) })
        #expect(first.map(\.scalarInt) == [0, 1, 2])
        // A null where a value was: other parameter types, another statement.
        let second = try connection.pipeline([(Self.insert, [.int(3), .null, .null]), (Self.insert, [.int(4), .text("x"), .bytea([])]),
                                              (Self.insert, [.int(0), .text("again"), .bytea([9])])])
        #expect(second.map(\.scalarInt) == [3, 4, nil], "the row already there returns nothing")
        let prepared = try connection.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'radstream_%'").scalarInt
        #expect(prepared == 2, "one per text and parameter types")
        let stored = try connection.execute("SELECT string_agg(coalesce(body, '-'), ',' ORDER BY id) FROM notes").scalar
        #expect(stored == "note 0,note 1,note 2,-,x")
    }

    @Test func aStatementThatFailsToPrepareIsNotTakenForPrepared() throws {
        let connection = try Self.connection("pipeline_unprepared")
        let broken = "INSERT INTO no_such_table (id) VALUES ($1)"
        for _ in 0..<2 {
            // Each time PostgreSQL's own reason, never "prepared statement does not exist".
            #expect {
                _ = try connection.pipeline([(broken, [.int(1)])])
            } throws: { error in
                (error as? PostgresError)?.message.contains("no_such_table") == true
            }
        }
        try connection.execute("CREATE TABLE no_such_table (id bigint)")
        #expect(try connection.pipeline([(broken, [.int(1)])]).map(\.affected) == [1])
    }

    /// Prepared statements are not transactional: one prepared in a transaction rolled back
    /// still runs after it.
    @Test func aStatementPreparedInARolledBackTransactionStillRuns() throws {
        let connection = try Self.connection("pipeline_rollback")
        #expect(throws: (any Error).self) {
            try connection.transaction { connection in
                _ = try connection.pipeline([(Self.insert, [.int(1), .text("kept?"), .null])])
                throw PostgresError(.connection, "the caller gives up")
            }
        }
        #expect(try connection.execute("SELECT count(*) FROM notes").scalarInt == 0)
        #expect(try connection.pipeline([(Self.insert, [.int(1), .text("kept"), .null])]).map(\.scalarInt) == [1])
    }
}
