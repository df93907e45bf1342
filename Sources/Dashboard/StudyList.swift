import Postgres

/// The studies page's list: the studies most recently active that match a filter. Summarising
/// every study and then sorting them (`dashboard.studies` whole) grows with the table — 910 ms at
/// 50,000 studies. Instead the list walks `dashboard.study_activity` newest first, a window of
/// rows at a time (the time indexes serve it), and summarises only the studies it meets (for a
/// list of ids PostgreSQL answers `dashboard.studies` from the study indexes), until the page is
/// full or the rows run out.
public struct StudyList {
    public struct Filter: Sendable {
        public var disagreement: String?  // "any", "report-image", "summarizer"
        public var finding: String?       // "pneumonia"
        public var from: String?          // YYYY-MM-DD: active on or after that day
        public var to: String?            // YYYY-MM-DD: active on or before that day
        public var version: String?       // "model version": read by that version

        public init(disagreement: String? = nil, finding: String? = nil, from: String? = nil, to: String? = nil, version: String? = nil) {
            (self.disagreement, self.finding, self.from, self.to, self.version) = (disagreement, finding, from, to, version)
        }

        /// Absent, empty, or a date as YYYY-MM-DD.
        static func isDate(_ text: String?) -> Bool {
            guard let text, !text.isEmpty else { return true }
            return text.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil
        }

        var hasValidDates: Bool { Self.isDate(from) && Self.isDate(to) }
    }

    /// A study as the list shows it.
    public struct Row: Sendable, Equatable {
        public let studyID: String
        public let firstSeen: String
        public let lastSeen: String
        public let images: Int
        public let reports: Int
        public let pneumoniaCalled: Bool
        public let reportImageDisagree: Bool
        public let summarizerDisagrees: Bool
        public let modelVersions: String
    }

    public static let pageSize = 200
    /// Activity rows read by the walk's first step; each further step reads twice as many, up to
    /// `largestWindow`, so that a filter that few studies match takes a few round trips, not
    /// hundreds (an unfiltered page is full after the first).
    public static let window = 2_000
    static let largestWindow = 32_000
    /// The walk's bound, for a filter that (almost) nothing matches: the list then says it looked
    /// at the newest this many images and reports.
    static let rowsWalkedAtMost = 200_000

    let filter: Filter
    let pageSize: Int
    let firstWindow: Int

    public init(filter: Filter, pageSize: Int = Self.pageSize, firstWindow: Int = Self.window) {
        (self.filter, self.pageSize, self.firstWindow) = (filter, pageSize, firstWindow)
    }

    /// The newest matching studies, most recently active first, and whether the walk stopped at
    /// its bound before it reached the oldest row.
    public func newest(on database: PostgresConnection) throws -> (rows: [Row], truncated: Bool) {
        var rows: [Row] = []
        var met = Set<String>()
        var cursor: (at: String, study: String)?
        var walked = 0, window = firstWindow
        while rows.count < pageSize {
            guard walked < Self.rowsWalkedAtMost else { return (rows, true) }
            let (sql, parameters) = activitySQL(after: cursor, limit: window)
            let activity = try database.execute(sql, parameters).rows
            walked += activity.count
            var fresh: [String] = []
            for row in activity {
                guard let study = row[1] else { continue }
                if met.insert(study).inserted { fresh.append(study) }
            }
            if !fresh.isEmpty {
                let (query, values) = summarySQL(of: fresh)
                let summaries = Dictionary(try database.execute(query, values).rows.compactMap(Self.row).map { ($0.studyID, $0) },
                                           uniquingKeysWith: { first, _ in first })
                rows += fresh.compactMap { summaries[$0] }.prefix(pageSize - rows.count)
            }
            guard activity.count == window, let last = activity.last, let at = last[0], let study = last[1] else { break }
            cursor = (at, study)
            window = min(2 * window, Self.largestWindow)
        }
        return (rows, false)
    }

    /// One window of the walk: images and reports newest first (ties by study, so that the
    /// cursor after the last row is exact), within the filter's dates.
    public func activitySQL(after cursor: (at: String, study: String)?, limit: Int = Self.window) -> (String, [PostgresValue]) {
        var conditions: [String] = []
        var parameters: [PostgresValue] = []
        func parameter(_ value: String) -> String {
            parameters.append(.text(value))
            return "$\(parameters.count)"
        }
        if let cursor {
            let at = parameter(cursor.at), study = parameter(cursor.study)
            // `at <= …` alone is what the index can use; the rest breaks ties.
            conditions.append("at <= \(at)::timestamptz AND (at < \(at)::timestamptz OR study_id < \(study))")
        }
        if let from = filter.from, !from.isEmpty { conditions.append("at >= \(parameter(from))::date") }
        if let to = filter.to, !to.isEmpty { conditions.append("at < \(parameter(to))::date + 1") }
        let sql = """
            SELECT at, study_id FROM dashboard.study_activity \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY at DESC, study_id DESC LIMIT \(limit)
            """
        return (sql, parameters)
    }

    /// The summaries of `studies` that match the filter's other conditions.
    public func summarySQL(of studies: [String]) -> (String, [PostgresValue]) {
        var parameters = studies.map(PostgresValue.text)
        var conditions = ["study_id IN (\((1...studies.count).map { "$\($0)" }.joined(separator: ", ")))"]
        switch filter.disagreement {
        case "report-image": conditions.append("report_image_disagree")
        case "summarizer": conditions.append("summarizer_disagrees")
        case "any": conditions.append("(report_image_disagree OR summarizer_disagrees)")
        default: break
        }
        if filter.finding == "pneumonia" { conditions.append("pneumonia_called") }
        if let version = filter.version, !version.isEmpty {
            parameters.append(.text(version))
            conditions.append("$\(parameters.count) = ANY (model_versions)")
        }
        let sql = """
            SELECT study_id, first_seen, last_seen, images, reports, pneumonia_called, report_image_disagree, summarizer_disagrees,
                   array_to_string(model_versions, ', ')
            FROM dashboard.studies WHERE \(conditions.joined(separator: " AND "))
            """
        return (sql, parameters)
    }

    private static func row(_ columns: [String?]) -> Row? {
        guard let study = columns[0] else { return nil }
        return Row(studyID: study, firstSeen: columns[1] ?? "", lastSeen: columns[2] ?? "", images: Int(columns[3] ?? "") ?? 0,
                   reports: Int(columns[4] ?? "") ?? 0, pneumoniaCalled: columns[5] == "t", reportImageDisagree: columns[6] == "t",
                   summarizerDisagrees: columns[7] == "t", modelVersions: columns[8] ?? "")
    }
}
