import Postgres

/// What the stream has written so far, counted: the demo's progress and summary read it here,
/// beside the writer of these tables, rather than in SQL of their own.
public struct StoredResults {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    public struct Counts: Sendable, Equatable {
        public let reports: Int
        public let images: Int
        /// Downsampled copies kept in `image_pixels` (one per image and side).
        public let pixels: Int
        public let deadLetters: Int
        public var processed: Int { reports + images + deadLetters }
    }

    public func counts() throws -> Counts {
        let row = try connection.execute("""
            SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM images),
                   (SELECT count(*) FROM image_pixels), (SELECT count(*) FROM dead_letters)
            """).rows[0].map { Int($0 ?? "0") ?? 0 }
        return Counts(reports: row[0], images: row[1], pixels: row[2], deadLetters: row[3])
    }

    /// Dead letters per error code, the most frequent first.
    public func deadLettersByCode() throws -> [(code: String, count: Int)] {
        try connection.execute("SELECT error_code, count(*) FROM dead_letters GROUP BY 1 ORDER BY 2 DESC").rows.map {
            ($0[0] ?? "?", Int($0[1] ?? "0") ?? 0)
        }
    }

    /// Predictions per model and decision, by model, the most frequent decision first.
    public func decisionsByModel() throws -> [(model: String, decision: String, count: Int)] {
        try connection.execute("SELECT model, decision, count(*) FROM image_predictions GROUP BY 1, 2 ORDER BY 1, 3 DESC").rows.map {
            ($0[0] ?? "?", $0[1] ?? "?", Int($0[2] ?? "0") ?? 0)
        }
    }

    /// How often a generated impression says something else than the radiologist's, as the
    /// labeler reads both: for the summarizer (reports), and for the captioner (studies with
    /// both an image and a report, on pneumonia).
    public struct Agreement: Sendable, Equatable {
        public let generated: Int
        public let disagreeing: Int
        public let compared: Int
    }

    public func summarizerAgreement() throws -> Agreement {
        let row = try connection.execute("""
            SELECT count(generated_impression), count(*) FILTER (WHERE jsonb_array_length(impression_disagreements) > 0),
                   count(impression_disagreements) FROM reports
            """).rows[0].map { Int($0 ?? "0") ?? 0 }
        return Agreement(generated: row[0], disagreeing: row[1], compared: row[2])
    }

    public func captionerAgreement() throws -> Agreement {
        let row = try connection.execute("""
            SELECT (SELECT count(generated_impression) FROM images),
                   (SELECT count(*) FILTER (WHERE disagree_on_pneumonia) FROM study_impressions),
                   (SELECT count(*) FROM study_impressions)
            """).rows[0].map { Int($0 ?? "0") ?? 0 }
        return Agreement(generated: row[0], disagreeing: row[1], compared: row[2])
    }
}
