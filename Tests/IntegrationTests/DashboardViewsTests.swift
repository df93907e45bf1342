import ChildProcesses
import Dashboard
import Foundation
import Kafka
import Postgres
import TestSupport
import Testing
@testable import Pipeline

/// The reading side: the dashboard's views after a real stream, and the role that reads them
/// and nothing else.
@Suite("Dashboard views and their reader", .serialized)
struct DashboardViewsTests {
    @Test func theReaderRoleReadsTheViewsAndNothingUnderThem() throws {
        let (conninfo, configuration) = try Self.stream("dashboard_views", bad: Array("{not json".utf8), on: \.imageTopic)

        // The role, by the command an operator runs; twice changes nothing.
        let folder = FileManager.default.temporaryDirectory.appending(path: "reader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let passwordFile = folder.appending(path: "password")
        try "s3cret-reader\n".write(to: passwordFile, atomically: true, encoding: .utf8)
        for _ in 0..<2 {
            let result = try ChildProcess.run(Paths.binary.path, ["migrate", "--postgres", conninfo, "--create-reader-role", "dash_reader",
                                                                  "--reader-password-file", passwordFile.path])
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("dash_reader reads the views") && !result.output.contains("s3cret"))
        }
        #expect(try ChildProcess.run(Paths.binary.path, ["migrate", "--postgres", conninfo, "--create-reader-role", "Robert'); DROP"]).status != 0)

        let reader = try PostgresConnection(conninfo.replacingOccurrences(of: "user=radstream", with: "user=dash_reader"))
        let owner = try PostgresConnection(conninfo)
        let views = try DashboardReader.views(on: owner)
        #expect(views.count >= 9)
        for view in views { #expect(throws: Never.self) { try reader.execute("SELECT * FROM dashboard.\(view) LIMIT 5") } }
        // What the views say is what the stream wrote.
        let kinds = Dictionary(uniqueKeysWithValues: try reader.execute(
            "SELECT kind, sum(events)::bigint FROM dashboard.events_per_hour GROUP BY kind").rows.map { ($0[0]!, Int($0[1]!)!) })
        #expect(kinds == ["image": 100, "report": 100, "dead letter": 5])
        // The views of raw rows say the same, and a time range cuts them before they are grouped.
        let rows = Dictionary(uniqueKeysWithValues: try reader.execute(
            "SELECT kind, count(*) FROM dashboard.events WHERE at >= now() - interval '1 hour' GROUP BY kind").rows.map { ($0[0]!, Int($0[1]!)!) })
        #expect(rows == kinds)
        #expect(try reader.execute("SELECT count(*) FROM dashboard.events WHERE at < now() - interval '1 hour'").scalarInt == 0)
        #expect(try reader.execute("SELECT count(*) FROM dashboard.image_decisions").scalarInt == 200)
        #expect(try reader.execute("SELECT count(DISTINCT study_id), count(*) FROM dashboard.study_activity").rows[0] == ["97", "200"])
        // The lag's history: samples of the stream's own partitions, none negative, the last at 0.
        let lag = try reader.execute("""
            SELECT count(*), count(DISTINCT topic), min(lag), bool_and(consumer_group = $1) FROM dashboard.consumer_lag
            """, [.text(configuration.kafka.groupID)]).rows[0]
        #expect(Int(lag[0] ?? "") ?? 0 > 0 && lag[1] == "2" && lag[2] == "0" && lag[3] == "t", "\(lag)")
        #expect(try reader.execute("""
            SELECT sum(lag) FROM dashboard.consumer_lag WHERE at = (SELECT max(at) FROM dashboard.consumer_lag)
            """).scalarInt == 0)
        #expect(try reader.execute("SELECT sum(dead_letters) FROM dashboard.dead_letters_per_hour WHERE error_code = 'malformed_json'").scalarInt == 5)
        #expect(try reader.execute("SELECT count(*) FROM dashboard.dead_letters WHERE payload_sha256 <> ''").scalarInt == 5)
        let shares = try reader.execute("""
            SELECT model, sum(share), sum(predictions) FROM dashboard.decisions_per_day GROUP BY model, model_version, day ORDER BY model
            """).rows
        #expect(shares.map { $0[0]! } == ["covid", "pneumonia"])
        #expect(shares.allSatisfy { abs(Double($0[1]!)! - 1) < 1e-9 })
        #expect(try reader.execute("SELECT count(*) FROM dashboard.report_image_discrepancies WHERE pneumonia_probability BETWEEN 0 AND 1").scalarInt ?? 0 > 0)
        // The captioner is off in this stream: its side is unknown, not a disagreement.
        #expect(try reader.execute("SELECT count(*) FROM dashboard.report_image_discrepancies WHERE captioner_disagrees IS NOT NULL").scalarInt == 0)
        #expect(try reader.execute("""
            SELECT count(*) FROM dashboard.report_image_discrepancies WHERE (image_model_disagrees IS NULL) <> (pneumonia_applicable = false)
            """).scalarInt == 0)
        #expect(try reader.execute("SELECT count(*) FROM dashboard.model_versions WHERE status = 'active'").scalarInt == 2)
        let studies = try reader.execute("SELECT count(*), sum(images), sum(reports) FROM dashboard.studies").rows[0].map { Int($0 ?? "") }
        #expect(studies == [97, 100, 100])  // the factory's studies are the event's index modulo 97
        #expect(try reader.execute("SELECT count(*) FROM dashboard.films WHERE length(pixels) = side * side").scalarInt == 100)
        #expect(try reader.execute("SELECT count(*) FROM dashboard.predictions WHERE length(saliency_png) > 0").scalarInt == 200)

        // The studies list, walked a few rows at a time (the windows grow, the rows of a batch share
        // their time): each study once, most recently active first, as one query over all rows says.
        let truth = try reader.execute("""
            SELECT study_id FROM dashboard.study_activity GROUP BY study_id ORDER BY max(at) DESC, study_id DESC
            """).rows.compactMap { $0[0] }
        for (page, window) in [(10, 3), (97, 7), (200, 1)] {
            let (listed, truncated) = try StudyList(filter: .init(), pageSize: page, firstWindow: window).newest(on: reader)
            #expect(listed.map(\.studyID) == Array(truth.prefix(page)) && !truncated, "page \(page), first window \(window)")
        }
        let pneumonia = try StudyList(filter: .init(finding: "pneumonia"), firstWindow: 5).newest(on: reader).rows
        #expect(!pneumonia.isEmpty && pneumonia.allSatisfy(\.pneumoniaCalled))
        #expect(pneumonia.count == (try reader.execute("SELECT count(*) FROM dashboard.studies WHERE pneumonia_called").scalarInt))

        // Nothing under the views: no table read, no write, no payload, no weights.
        func refused(_ sql: String) -> Bool {
            do { _ = try reader.execute(sql); return false } catch { return error.sqlState == "42501" }
        }
        #expect(refused("SELECT payload FROM dead_letters"))
        #expect(refused("SELECT weights FROM model_registry"))
        #expect(refused("SELECT * FROM images LIMIT 1"))
        #expect(refused("INSERT INTO dead_letters (topic, kafka_partition, kafka_offset, payload_sha256, payload_bytes, error_code, error) VALUES ('t', 0, 0, '', 0, 'x', 'x')"))
        #expect(refused("DELETE FROM model_registry"))
        #expect(refused("CREATE TABLE dashboard.mine (x int)"))
        #expect(try reader.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'dashboard' AND column_name IN ('payload', 'weights')").scalarInt == 0)

        // Every panel of the Grafana dashboard runs, as the reader, on what the stream wrote; the
        // stream's own panels have rows.
        let panels = try Self.grafanaPanels()
        #expect(panels.count >= 10)
        for panel in panels {
            let rows = try #require(try? reader.execute(GrafanaMacros.expand(panel.sql)), "panel \(panel.title) fails")
            if ["Events per hour", "Dead letters per hour, by code", "Pneumonia positive rate per day, by model version", "Model registry",
                "Latest dead letters", "Records waiting in Kafka (consumer lag)"].contains(panel.title) {
                #expect(rows.count > 0, "panel \(panel.title) has no rows")
            }
        }
        #expect(panels.allSatisfy { $0.datasource == "radstream" })
    }

    /// A sample of the lag is one row per partition; writing one deletes those older than 30 days.
    @Test func theLagHistoryKeepsThirtyDays() throws {
        let conninfo = try TestEnvironment.get().makeDatabase("lag_history")
        let database = try PostgresConnection(conninfo)
        try database.execute("""
            INSERT INTO consumer_lag (sampled_at, consumer_group, topic, kafka_partition, lag)
            VALUES (now() - interval '31 days', 'g', 't', 0, 5), (now() - interval '29 days', 'g', 't', 0, 4)
            """)
        let log = ConsumerLagLog(connection: database)
        try log.record(group: "g", lags: [TopicPartition("t", 0): 3, TopicPartition("t", 1): 0, TopicPartition("u", 0): 7])
        let rows = try database.execute("SELECT topic, kafka_partition, lag FROM consumer_lag ORDER BY sampled_at, topic, kafka_partition").rows
        #expect(rows == [["t", "0", "4"], ["t", "0", "3"], ["t", "1", "0"], ["u", "0", "7"]])
        try log.record(group: "g", lags: [:])  // a daemon holding no partition writes nothing
        #expect(try database.execute("SELECT count(*) FROM consumer_lag").scalarInt == 4)
    }

    /// A database filled by a real stream: 200 good events (100 images, 100 reports, in 97
    /// studies) and 5 `bad` records on `topic`, as the daemon wrote them.
    static func stream(_ name: String, bad: [UInt8], on topic: KeyPath<RadStreamConfiguration.Kafka, String>) throws
        -> (conninfo: String, configuration: RadStreamConfiguration) {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase(name)
        var configuration = try environment.deliveryConfiguration(name: name.replacingOccurrences(of: "_", with: "-"), conninfo: conninfo)
        configuration.kafka.lagRecordSeconds = 1  // the lag's history, sampled while the stream runs
        try environment.publish(0..<200, factory: try EventFactory(), configuration: configuration)
        let producer = try EventFactory.producer(for: environment.broker.bootstrapServers)
        for index in 0..<5 { try producer.send(topic: configuration.kafka[keyPath: topic], key: Array("bad-\(index)".utf8), value: bad) }
        try producer.flush()
        let daemon = try InProcessDaemon(configuration: configuration)
        let done = try eventually(timeout: .seconds(120)) { try Counts.read(conninfo).total >= 205 }
        // The lag's history comes down to 0 once the stream is consumed (the consumer looks at
        // its lag every second, the recorder samples what it saw last).
        let sampled = try PostgresConnection(conninfo)
        let caughtUp = try eventually(timeout: .seconds(15)) {
            try sampled.execute("SELECT sum(lag) FROM consumer_lag WHERE sampled_at = (SELECT max(sampled_at) FROM consumer_lag)").scalarInt == 0
        }
        daemon.stop()
        #expect(caughtUp, "the lag's last sample is not 0")
        #expect(done && daemon.failure == nil)
        return (conninfo, configuration)
    }

    /// Each panel's title, data source and SQL, from ops/grafana/dashboards/radstream.json.
    static func grafanaPanels() throws -> [(title: String, datasource: String, sql: String)] {
        let file = TestData.packageRoot.appending(path: "ops/grafana/dashboards/radstream.json")
        let dashboard = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
        let panels = dashboard?["panels"] as? [[String: Any]] ?? []
        return panels.flatMap { panel in
            (panel["targets"] as? [[String: Any]] ?? []).map { target in
                (panel["title"] as? String ?? "?", (target["datasource"] as? [String: Any])?["uid"] as? String ?? "?",
                 target["rawSql"] as? String ?? "")
            }
        }
    }
}
