import Postgres
import Summarization

/// The reports the stream has written, as the summarizer's memory: each study's FINDINGS and the
/// radiologist's IMPRESSION, the most recent first. Read here, beside the writer of `reports`.
public struct StoredReportMemory {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    /// What changes whenever a report is written: the newest report's row id (nil for none), so
    /// that the memory is read and indexed again only when there is something new.
    public func newestReport() throws -> Int? {
        try connection.execute("SELECT max(id) FROM reports").scalarInt
    }

    /// The `limit` most recently written reports with both sections (one per study: its latest).
    public func load(limit: Int) throws -> ReportMemory {
        let rows = try connection.execute("""
            SELECT study_id, findings, impression FROM (
                SELECT DISTINCT ON (study_id) id, study_id, findings, impression FROM reports
                WHERE findings <> '' AND impression <> '' ORDER BY study_id, id DESC
            ) latest ORDER BY id DESC LIMIT $1
            """, [.int(Int64(limit))]).rows
        return ReportMemory(rows.map { ReportMemory.Entry(id: $0[0] ?? "", findings: $0[1] ?? "", impression: $0[2] ?? "") })
    }
}
