import Foundation
import Kafka
import Postgres
import Testing
@testable import Pipeline

/// Faults that are nobody's event's: the database refusing every write alike, the same event
/// delivered twice, a partition whose log is shorter than what was consumed of it. None may
/// turn good events into dead letters, write one twice or skip one.
@Suite("Infrastructure faults, end to end", .serialized)
struct InfrastructureFaultIntegrationTests {
    @Test func aSchemaOlderThanTheBinaryRefusesToStartWithTheReason() throws {
        let environment = try TestEnvironment.get()
        let newest = try DatabaseMigrations.all().map(\.version).max()!
        let conninfo = try environment.makeDatabase("old_schema", upTo: newest - 1)
        let daemon = try InProcessDaemon(configuration: try environment.deliveryConfiguration(name: "old-schema", conninfo: conninfo))
        #expect(try eventually(timeout: .seconds(20)) { daemon.status.stopRequested }, "the daemon gives up at once")
        daemon.stop()
        let failure = try #require(daemon.failure as? DatabaseMigrations.SchemaMismatch)
        #expect(failure.description.contains("older than this binary"))
        #expect(failure.description.contains("missing: \(newest)"))
        #expect(failure.description.contains("radstream migrate"))
    }

    /// A role without the grant to insert reports: every batch fails alike. Before, each event
    /// became a `processing_failed` dead letter and its offset moved on.
    @Test func aRevokedGrantStopsTheStreamNotTheEvents() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("revoked_grant")
        let role = "radstream_writer_\(getpid())"
        let admin = try PostgresConnection(conninfo)
        try admin.execute("DROP ROLE IF EXISTS \(role)")
        try admin.execute("CREATE ROLE \(role) LOGIN")
        try admin.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO \(role)")
        try admin.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO \(role)")
        let configuration = try environment.deliveryConfiguration(
            name: "revoked-grant", conninfo: conninfo.replacingOccurrences(of: "user=radstream", with: "user=\(role)"))
        let factory = try EventFactory()

        try environment.publish(0..<100, factory: factory, configuration: configuration)
        let daemon = try InProcessDaemon(configuration: configuration)
        #expect(try eventually(timeout: .seconds(60)) { try Counts.read(conninfo).total == 100 })

        try admin.execute("REVOKE INSERT ON reports FROM \(role)")
        try environment.publish(100..<200, factory: factory, configuration: configuration)
        #expect(try eventually(timeout: .seconds(20)) { !daemon.status.isReady }, "not ready while PostgreSQL refuses")
        #expect(daemon.status.notReadyReasons.contains { $0.contains("42501") }, "\(daemon.status.notReadyReasons)")
        // And it stays so, though the model watcher's own connection works meanwhile.
        var readySamples = 0
        for _ in 0..<20 {
            if daemon.status.isReady { readySamples += 1 }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(readySamples == 0)
        #expect(try Counts.read(conninfo) == Counts(images: 50, reports: 50, deadLetters: 0, distinctEvents: 100),
                "nothing written, nothing blamed on the events")
        #expect(try admin.execute("SELECT sum(next_offset) FROM consumer_offsets").scalarInt == 100, "the offsets stay")
        #expect(daemon.metric(#"radstream_database_failures_total{sqlstate="42501"}"#) ?? 0 >= 2, "retried")

        try admin.execute("GRANT INSERT ON reports TO \(role)")
        #expect(try eventually(timeout: .seconds(30)) { try Counts.read(conninfo).total == 200 }, "resumes once granted")
        #expect(try eventually(timeout: .seconds(5)) { daemon.status.isReady }, "\(daemon.status.notReadyReasons)")
        daemon.stop()
        #expect(daemon.failure == nil)
        #expect(try Counts.read(conninfo) == Counts(images: 100, reports: 100, deadLetters: 0, distinctEvents: 200))
        try admin.execute("DROP OWNED BY \(role)")
        try admin.execute("DROP ROLE \(role)")
    }

    /// A server that accepts no writes (a standby, or read-only by setting): the stream waits
    /// until it takes writes again.
    @Test func aReadOnlyServerStopsTheStreamNotTheEvents() throws {
        let environment = try TestEnvironment.get()
        let name = "read_only"
        let conninfo = try environment.makeDatabase(name)
        let admin = try PostgresConnection(conninfo)
        let configuration = try environment.deliveryConfiguration(name: "read-only", conninfo: conninfo)
        let factory = try EventFactory()
        /// New sessions of the database start read-only (or not); the daemon's are cut, so it reconnects.
        func setReadOnly(_ readOnly: Bool) throws {
            try admin.execute("ALTER DATABASE \(name) SET default_transaction_read_only = \(readOnly ? "on" : "off")")
            try admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                              [.text(name)])
        }

        try environment.publish(0..<100, factory: factory, configuration: configuration)
        let daemon = try InProcessDaemon(configuration: configuration)
        #expect(try eventually(timeout: .seconds(60)) { try Counts.read(conninfo).total == 100 })
        try setReadOnly(true)
        try environment.publish(100..<200, factory: factory, configuration: configuration)
        #expect(try eventually(timeout: .seconds(20)) { daemon.status.notReadyReasons.contains { $0.contains("25006") } },
                "\(daemon.status.notReadyReasons)")
        Thread.sleep(forTimeInterval: 2)
        #expect(try Counts.read(conninfo).total == 100, "nothing written, nothing blamed on the events")
        try setReadOnly(false)
        #expect(try eventually(timeout: .seconds(30)) { try Counts.read(conninfo).total == 200 }, "resumes once writable")
        daemon.stop()
        #expect(daemon.failure == nil)
        #expect(try Counts.read(conninfo) == Counts(images: 100, reports: 100, deadLetters: 0, distinctEvents: 200))
    }

    /// The same events three times: once, again under other keys (so on other partitions), and
    /// again as they were (later offsets of the same partitions) — a producer's retry, a replay.
    @Test func theSameEventTwiceIsWrittenOnceAndCountedAsADuplicate() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("duplicates")
        let configuration = try environment.deliveryConfiguration(name: "duplicates", conninfo: conninfo)
        let factory = try EventFactory()
        try environment.publish(0..<100, factory: factory, configuration: configuration)
        try environment.publish(0..<100, factory: factory, configuration: configuration, key: "another-key")
        try environment.publish(0..<100, factory: factory, configuration: configuration)

        let daemon = try InProcessDaemon(configuration: configuration)
        let consumed = try eventually(timeout: .seconds(60)) {
            try PostgresConnection(conninfo).execute("SELECT sum(next_offset) FROM consumer_offsets").scalarInt == 300
        }
        daemon.stop()
        #expect(consumed, "every copy was consumed")
        #expect(daemon.failure == nil)
        #expect(try Counts.read(conninfo) == Counts(images: 50, reports: 50, deadLetters: 0, distinctEvents: 100))
        #expect(daemon.metric("radstream_events_duplicate_total") == 200)
        // Each image kept one set of pixels and one prediction per model: the copies added nothing.
        let database = try PostgresConnection(conninfo)
        #expect(try database.execute("SELECT count(*) FROM image_pixels WHERE side = 28").scalarInt == 50)
        #expect(try database.execute("SELECT count(*) FROM image_predictions WHERE model = 'pneumonia'").scalarInt == 50)
    }

    /// PostgreSQL says the image partitions were consumed up to offset 1000, but their logs hold
    /// 25 records each at most (the topic was recreated). Before, librdkafka fell back to each
    /// log's beginning and every new record was skipped as already done.
    @Test func aStoredOffsetPastThePartitionsEndHoldsItUntilToldToReset() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("offset_beyond_end")
        var configuration = try environment.deliveryConfiguration(name: "offset-beyond-end", conninfo: conninfo)
        let admin = try PostgresConnection(conninfo)
        for partition in 0..<4 {
            try admin.execute("INSERT INTO consumer_offsets (consumer_group, topic, kafka_partition, next_offset) VALUES ($1, $2, $3, 1000)",
                              [.text(configuration.kafka.groupID), .text(configuration.kafka.imageTopic), .int(partition)])
        }
        try environment.publish(0..<100, factory: try EventFactory(), configuration: configuration)

        let holding = try InProcessDaemon(configuration: configuration)
        #expect(try eventually(timeout: .seconds(60)) { try Counts.read(conninfo).reports == 50 }, "the other topic goes on")
        #expect(try eventually(timeout: .seconds(10)) { holding.metric("radstream_partitions_held") == 4 })
        #expect(!holding.status.isReady)
        let reasons = holding.status.notReadyReasons.joined(separator: "\n")
        #expect(reasons.contains("next offset is 1000 but the partition ends at"), "\(reasons)")
        Thread.sleep(forTimeInterval: 1)
        holding.stop()
        #expect(try Counts.read(conninfo).images == 0)
        #expect(try admin.execute("SELECT sum(next_offset) FROM consumer_offsets WHERE topic = $1",
                                  [.text(configuration.kafka.imageTopic)]).scalarInt == 4000, "nothing skipped, nothing moved")

        configuration.kafka.resetOffsetsBeyondEnd = true
        let resetting = try InProcessDaemon(configuration: configuration)
        #expect(try eventually(timeout: .seconds(60)) { try Counts.read(conninfo).images == 50 }, "consumed from the beginning")
        #expect(resetting.status.isReady)
        #expect(resetting.metric(#"radstream_offset_resets_total{topic="\#(configuration.kafka.imageTopic)"}"#) == 4)
        resetting.stop()
        #expect(try Counts.read(conninfo) == Counts(images: 50, reports: 50, deadLetters: 0, distinctEvents: 100))
        #expect(try admin.execute("SELECT sum(next_offset) FROM consumer_offsets WHERE topic = $1",
                                  [.text(configuration.kafka.imageTopic)]).scalarInt == 50)
    }
}
