import Foundation
import Postgres
import SelfTraining
import Training

/// The home of `self_training_rounds`: every round appended with its figures and decision, read
/// back as typed entries (by `models rounds`, the experiment, and the next round's schedule).
public struct PostgresRoundLog: RoundLog {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    private static let columns = """
        id, model, consumer_group, trigger, extract(epoch FROM started_at), duration_seconds, labeled_images,
        unlabeled_images, last_image_id, steps, teacher_version, candidate_version, teacher_metrics::text,
        candidate_metrics::text, decision, reason
        """

    public func lastCompleted(model: String, group: String) throws -> RoundEntry? {
        try entries("""
            SELECT \(Self.columns) FROM self_training_rounds
            WHERE model = $1 AND consumer_group = $2 AND decision <> 'failed' ORDER BY id DESC LIMIT 1
            """, [.text(model), .text(group)]).first
    }

    /// The last `count` rounds of every model and group, oldest first.
    public func latest(_ count: Int) throws -> [RoundEntry] {
        try entries("""
            SELECT * FROM (SELECT \(Self.columns) FROM self_training_rounds ORDER BY id DESC LIMIT $1) AS latest ORDER BY id
            """, [.int(count)])
    }

    /// The `number`th round ever recorded (from 1), if there is one.
    public func round(_ number: Int) throws -> RoundEntry? {
        try entries("SELECT \(Self.columns) FROM self_training_rounds ORDER BY id OFFSET $1 LIMIT 1", [.int(number - 1)]).first
    }

    public func count() throws -> Int {
        try connection.execute("SELECT count(*) FROM self_training_rounds").scalarInt ?? 0
    }

    public func append(_ entry: RoundEntry) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func json(_ evaluation: ClassifierEvaluation?) throws -> PostgresValue {
            try evaluation.map { .text(String(decoding: try encoder.encode($0), as: UTF8.self)) } ?? .null
        }
        try connection.execute("""
            INSERT INTO self_training_rounds (model, consumer_group, trigger, started_at, duration_seconds, labeled_images,
                unlabeled_images, last_image_id, steps, teacher_version, candidate_version, teacher_metrics, candidate_metrics,
                decision, reason)
            VALUES ($1, $2, $3, to_timestamp($4), $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13::jsonb, $14, $15)
            """, [.text(entry.model), .text(entry.group), .text(entry.trigger.rawValue),
                  .text(String(entry.startedAt.timeIntervalSince1970)), .text(String(entry.seconds)), .int(entry.labeledImages),
                  .int(entry.unlabeledImages), .int(entry.lastImageID), .int(entry.steps), .text(entry.teacherVersion),
                  .optional(entry.candidateVersion), try json(entry.teacherValidation), try json(entry.candidateValidation),
                  .text(entry.decision), .text(entry.reason)])
    }

    private func entries(_ sql: String, _ parameters: [PostgresValue]) throws -> [RoundEntry] {
        let decoder = JSONDecoder()
        func evaluation(_ text: String?) throws -> ClassifierEvaluation? {
            try text.map { try decoder.decode(ClassifierEvaluation.self, from: Data($0.utf8)) }
        }
        return try connection.execute(sql, parameters).rows.map { row in
            func text(_ column: Int) throws -> String {
                guard let value = row[column] else { throw SelfTrainingError("self_training_rounds: column \(column) is NULL") }
                return value
            }
            func number<T: LosslessStringConvertible>(_ column: Int) throws -> T {
                guard let value = T(try text(column)) else { throw SelfTrainingError("self_training_rounds: column \(column) is not a number") }
                return value
            }
            guard let trigger = SelfTrainer.Trigger(rawValue: try text(3)) else {
                throw SelfTrainingError("self_training_rounds: unknown trigger \(row[3] ?? "")")
            }
            return RoundEntry(id: try number(0), model: try text(1), group: try text(2), trigger: trigger,
                              startedAt: Date(timeIntervalSince1970: try number(4)), seconds: try number(5),
                              labeledImages: try number(6), unlabeledImages: try number(7), lastImageID: try number(8),
                              steps: try number(9), teacherVersion: try text(10), candidateVersion: row[11],
                              teacherValidation: try evaluation(row[12]), candidateValidation: try evaluation(row[13]),
                              decision: try text(14), reason: try text(15))
        }
    }
}
