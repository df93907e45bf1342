import Events
import Foundation
import Kafka
import Postgres
import Testing
@testable import Pipeline

@Suite("Crashes and outages, end to end", .serialized)
struct CrashRecoveryIntegrationTests {
    /// SIGKILL gives the daemon no chance to finish its batch: whatever it had not committed must
    /// be redone by the next run, and whatever it had committed must not be done again.
    @Test func killedThreeTimesEveryEventIsProcessedExactlyOnce() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("sigkill")
        var configuration = try environment.configuration(name: "sigkill", partitions: 8, conninfo: conninfo)
        // Delivery is what is tested here; the summarizer and the captioner (in the stream test)
        // would only slow the debug build down.
        configuration.models.summarizeReports = false
        configuration.models.captionImages = false
        // 60 s of stream: three kill-and-restart cycles fit inside it with room to spare (each
        // waits out the killed member's 6 s session and a ~3 s rejoin before its first commit).
        let total = 6000
        let published = try environment.publishInBackground(count: total, rate: 100, configuration: configuration)

        var generator = SystemRandomNumberGenerator()
        var kills: [Counts] = []
        for _ in 0..<3 {
            let daemon = try DaemonProcess(configuration: configuration, directory: environment.root)
            // Let it join the group and commit a batch or more, then kill it at a random moment.
            let before = try Counts.read(conninfo).total
            _ = try eventually(timeout: .seconds(30)) { try Counts.read(conninfo).total > before }
            Thread.sleep(forTimeInterval: Double.random(in: 0.2...2.0, using: &generator))
            #expect(daemon.stop(with: SIGKILL) == 128 + SIGKILL)
            kills.append(try Counts.read(conninfo))
        }
        published.wait()
        let last = try DaemonProcess(configuration: configuration, directory: environment.root)
        #expect(try eventually(timeout: .seconds(30)) { last.output.contains("consuming") }, "the last daemon starts")
        let done = try eventually(timeout: .seconds(120)) { try Counts.read(conninfo).total >= total }
        // The result outbox is published behind the stream: every row, before the daemon goes.
        let database = try PostgresConnection(conninfo)
        let outboxDrained = try eventually(timeout: .seconds(60)) {
            try database.execute("SELECT count(*) FROM result_outbox WHERE published_at IS NULL").scalarInt == 0
        }
        try checkProbes(of: last)
        #expect(last.stop(with: SIGTERM) == 0, "SIGTERM drains and exits cleanly:\n\(last.output.suffix(2000))")
        #expect(done, "killed at \(kills)")
        let counts = try Counts.read(conninfo)
        #expect(counts == Counts(images: total / 2, reports: total / 2, deadLetters: 0, distinctEvents: total))
        #expect(kills.allSatisfy { $0.total < total }, "every kill came in the middle of the stream: \(kills)")

        // The result outbox through the same kills: one row per image, written with it, each
        // published; on the results topic every row's document, and nothing else (a batch
        // published again before its mark is the same documents, by id).
        let rows = try database.execute("SELECT document_id::text FROM result_outbox").rows
        #expect(outboxDrained && rows.count == total / 2, "\(rows.count) rows")
        let documents = Set(rows.compactMap { $0[0] })
        let onTopic = try consumeRecords(configuration.results.topic, bootstrap: configuration.kafka.bootstrapServers,
                                           count: total / 2, timeout: .seconds(60))
        let ids = onTopic.compactMap { $0.headers.first { $0.0 == "radstream.document.id" }.map { String(decoding: $0.1, as: UTF8.self) } }
        let distinct = Set(ids)
        #expect(distinct.count == documents.count && distinct.isSubset(of: documents), "\(distinct.count) distinct of \(ids.count) published; \(documents.subtracting(distinct).count) rows not on the topic, \(distinct.subtracting(documents).count) documents of no row")
    }

    /// /healthz, /readyz and /metrics of a running daemon that has consumed events.
    private func checkProbes(of daemon: DaemonProcess) throws {
        let port = try #require(daemon.httpPort)
        #expect(httpGet("http://127.0.0.1:\(port)/healthz")?.status == 200)
        #expect(httpGet("http://127.0.0.1:\(port)/readyz")?.status == 200)
        let metrics = try #require(httpGet("http://127.0.0.1:\(port)/metrics"))
        #expect(metrics.status == 200)
        for name in ["radstream_events_consumed_total", "radstream_events_processed_total",
                     "radstream_batch_duration_seconds_bucket", "radstream_consumer_lag", #"radstream_predictions_total{model="pneumonia""#] {
            #expect(metrics.body.contains(name), "\(name) in /metrics")
        }
    }

    /// PostgreSQL goes away mid-stream: the daemon waits, reconnects and resumes, losing nothing.
    @Test func postgresRestartedMidStreamLosesNothing() throws {
        let environment = try TestEnvironment.get()
        // A server of its own: the shared one must not go down under other tests.
        let server = try LocalPostgresServer(dataDirectory: environment.root.appending(path: "postgres-restart"), durable: false)
        try server.start()
        defer { try? server.stop() }
        let conninfo = server.conninfo
        try DatabaseMigrations.apply(on: PostgresConnection(conninfo))
        var configuration = try environment.configuration(name: "pg-restart", conninfo: conninfo)
        configuration.models.summarizeReports = false  // as above: delivery is what is tested
        configuration.models.captionImages = false
        let total = 2000
        let published = try environment.publishInBackground(count: total, rate: 400, configuration: configuration)

        let daemon = try InProcessDaemon(configuration: configuration)
        #expect(try eventually(timeout: .seconds(30)) { try Counts.read(conninfo).total > 200 })
        try server.stop()
        Thread.sleep(forTimeInterval: 3)
        #expect(!daemon.status.isReady, "not ready while the database is away")
        try server.start()
        published.wait()
        let done = try eventually(timeout: .seconds(90)) { try Counts.read(conninfo).total >= total }
        daemon.stop()
        #expect(daemon.failure == nil)
        #expect(done)
        #expect(try Counts.read(conninfo) == Counts(images: total / 2, reports: total / 2, deadLetters: 0, distinctEvents: total))
    }
}
