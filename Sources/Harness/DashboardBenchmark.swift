import ChildProcesses
import Dashboard
import Foundation
import Pipeline
import Postgres

/// The dashboard's queries on a database the size a hospital reaches in weeks: a replay of
/// `events` events (half images, each read by every classifier; half reports, labelled) through
/// `radstream serve` on the local stack, the older half then moved a month back (history outside
/// the week the panels show), then every Grafana panel and the pages' main reads run under
/// `EXPLAIN ANALYZE`: how long each takes and which indexes it uses.
public struct DashboardBenchmark {
    public struct Options: Sendable {
        public var events: Int
        public var data: URL
        public var workDir: URL
        /// The Grafana dashboard whose panels are measured (ops/grafana/dashboards/radstream.json).
        public var grafanaDashboard: URL
        public var binary: String

        public init(events: Int, data: URL, workDir: URL, grafanaDashboard: URL, binary: String) {
            (self.events, self.data, self.workDir, self.grafanaDashboard, self.binary) = (events, data, workDir, grafanaDashboard, binary)
        }
    }

    public struct Measured: Sendable {
        public let query: String
        public let rows: Int
        public let planningMilliseconds: Double
        public let executionMilliseconds: Double
        public let indexes: [String]
    }

    public struct Outcome: Sendable {
        public let counts: StoredResults.Counts
        public let predictions: Int
        public let measured: [Measured]
    }

    let options: Options

    public init(options: Options) {
        self.options = options
    }

    public func run(log: @escaping (String) -> Void) throws -> Outcome {
        try? FileManager.default.removeItem(at: options.workDir)
        try FileManager.default.createDirectory(at: options.workDir, withIntermediateDirectories: true)
        let stack = try LocalStack.start(directory: options.workDir.appending(path: "postgres"), partitions: 6, durable: true, log: log)
        defer { try? stack.stop() }
        let name = "dashboard_bench"
        let (isolated, database) = try stack.isolatedStream(name, partitions: 12)
        var configuration = isolated
        configuration.models.summarizeReports = false
        configuration.models.captionImages = false
        configuration.counterfactuals.enabled = false
        let daemon = try LocalStack.startDaemon(options.binary, configuration: configuration, name: name, in: options.workDir)
        defer {
            kill(daemon, SIGTERM)
            _ = ChildProcess.wait(daemon)
        }

        // The embedded broker keeps about 5 MB per partition: publish in chunks, each once the
        // daemon has caught up with the one before.
        let source = try SampleEvents(data: options.data)
        let producer = try stack.producer()
        let results = StoredResults(connection: database)
        let chunk = 5_000
        for start in stride(from: 0, to: options.events, by: chunk) {
            let end = min(start + chunk, options.events)
            for index in start..<end {
                let event = index % 2 == 0 ? source.image(index) : source.report(index)
                let topic = if case .image = event { configuration.kafka.imageTopic } else { configuration.kafka.reportTopic }
                try producer.send(topic: topic, key: Array(event.studyID.utf8), value: event.encoded())
            }
            try producer.flush(timeout: .seconds(120))
            let started = ContinuousClock.now
            while try results.counts().processed < end {
                guard kill(daemon, 0) == 0 else { throw HarnessError("the daemon stopped; see its log in \(options.workDir.path)") }
                if ContinuousClock.now - started > .seconds(600) { throw HarnessError("events \(start)..<\(end) not processed in 10 minutes") }
                Thread.sleep(forTimeInterval: 0.2)
            }
            log("\(end) of \(options.events) events stored")
        }
        // History before the week the panels show: the older half of the images and reports moved
        // 30 days back, so that a time range has rows to leave out, as in a database a month old.
        for table in ["images", "reports"] {
            try database.execute("UPDATE \(table) SET processed_at = processed_at - interval '30 days' WHERE id <= (SELECT max(id) / 2 FROM \(table))")
        }
        try database.execute("ANALYZE")
        let counts = try results.counts()
        let predictions = try database.execute("SELECT count(*) FROM image_predictions").scalarInt ?? 0
        return Outcome(counts: counts, predictions: predictions, measured: try queries(database).map { try measure($0, on: database) } + timeStudyLists(on: database))
    }

    /// Every Grafana panel (its macros as Grafana expands them for the last 7 days) and the reads
    /// of the dashboard's pages; the studies list as the page walks it (its first window of
    /// activity and the summaries of the studies met there).
    func queries(_ database: PostgresConnection) throws -> [(name: String, sql: String, parameters: [PostgresValue])] {
        let dashboard = try JSONSerialization.jsonObject(with: Data(contentsOf: options.grafanaDashboard)) as? [String: Any]
        let panels = (dashboard?["panels"] as? [[String: Any]] ?? []).flatMap { panel in
            (panel["targets"] as? [[String: Any]] ?? []).compactMap { target -> (String, String, [PostgresValue])? in
                guard let sql = target["rawSql"] as? String else { return nil }
                return ("Grafana: \(panel["title"] as? String ?? "?")", GrafanaMacros.expand(sql), [])
            }
        }
        let study = try database.execute("SELECT study_id FROM images ORDER BY id DESC LIMIT 1").scalar ?? ""
        let image = try database.execute("SELECT max(id) FROM images").scalar ?? "0"
        let list = StudyList(filter: .init())
        let window = list.activitySQL(after: nil)
        var met: [String] = []
        for row in try database.execute(window.0, window.1).rows { if let id = row[1], !met.contains(id) { met.append(id) } }
        let summaries = list.summarySQL(of: met.isEmpty ? [""] : met)
        let disagreeing = StudyList(filter: .init(disagreement: "any")).summarySQL(of: met.isEmpty ? [""] : met)
        return panels + [
            ("page: studies, a window of the newest activity", window.0, window.1),
            ("page: studies, the summaries of its \(met.count) studies", summaries.0, summaries.1),
            ("page: studies that disagree, the same summaries", disagreeing.0, disagreeing.1),
            // What the list and the events panel read before the views of raw rows (migration 0014), for the ratio.
            ("before 0014: studies, every study summarised and sorted", "SELECT * FROM dashboard.studies ORDER BY first_seen DESC LIMIT 200", []),
            ("before 0014: events per hour, the grouped view", """
                SELECT hour, kind, events FROM dashboard.events_per_hour WHERE hour BETWEEN now() - interval '7 days' AND now()
                """, []),
            ("page: one study's reports", "SELECT * FROM dashboard.reports WHERE study_id = $1", [.text(study)]),
            ("page: one study's films", "SELECT id, image_id FROM dashboard.films WHERE study_id = $1", [.text(study)]),
            ("page: one film's predictions", "SELECT model, decision FROM dashboard.predictions WHERE image_id = $1", [.text(image)]),
        ]
    }

    /// The studies page's whole list, walk and summaries, by the wall clock (no plan to read).
    func timeStudyLists(on database: PostgresConnection) throws -> [Measured] {
        try [("page: studies, newest 200, whole list (wall clock)", StudyList.Filter()),
             ("page: studies that disagree, whole list (wall clock)", StudyList.Filter(disagreement: "any"))].map { name, filter in
            let started = ContinuousClock.now
            let (rows, _) = try StudyList(filter: filter).newest(on: database)
            let took = ContinuousClock.now - started
            return Measured(query: name, rows: rows.count, planningMilliseconds: .nan,
                            executionMilliseconds: Double(took.components.seconds) * 1e3 + Double(took.components.attoseconds) / 1e15,
                            indexes: [])
        }
    }

    func measure(_ query: (name: String, sql: String, parameters: [PostgresValue]), on database: PostgresConnection) throws -> Measured {
        let text = try database.execute("EXPLAIN (ANALYZE, FORMAT JSON) \(query.sql)", query.parameters).scalar ?? "[]"
        let plan = ((try JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]])?.first ?? [:]
        var indexes: Set<String> = []
        func walk(_ node: [String: Any]) {
            if let index = node["Index Name"] as? String { indexes.insert(index) }
            for child in node["Plans"] as? [[String: Any]] ?? [] { walk(child) }
        }
        let root = plan["Plan"] as? [String: Any] ?? [:]
        walk(root)
        return Measured(query: query.name, rows: root["Actual Rows"] as? Int ?? 0,
                        planningMilliseconds: plan["Planning Time"] as? Double ?? .nan,
                        executionMilliseconds: plan["Execution Time"] as? Double ?? .nan, indexes: indexes.sorted())
    }
}
