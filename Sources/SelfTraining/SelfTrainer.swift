import Foundation
import Models
import Postgres
import Training

/// Runs self-training rounds against PostgreSQL: takes the leadership of its consumer group,
/// reads the pools, runs a `DistillationRound`, lets the `PromotionGate` decide, and records the
/// candidate in the registry (served at once when promoted, with a notification every instance
/// hears) and the round in `self_training_rounds`. `radstream serve` and `self-train --now` both
/// call it.
public final class SelfTrainer {
    public enum Trigger: String, Sendable { case newImages = "new-images", interval, manual }

    /// A round as `self_training_rounds` records it.
    public struct Record: Sendable {
        public let trigger: Trigger
        public let labeledImages: Int
        public let unlabeledImages: Int
        public let teacherVersion: String
        public let candidateVersion: String?
        public let teacherValidation: ClassifierEvaluation?
        public let candidateValidation: ClassifierEvaluation?
        public let decision: String
        public let reason: String
        public let seconds: Double
    }

    /// Why `nextTrigger` says no round is due, or which one is.
    public struct Due: Sendable, Equatable {
        public let trigger: Trigger?
        public let newImages: Int
    }

    let settings: SelfTrainingSettings
    let group: String
    /// The round's own connection: it holds the leader's advisory lock for as long as the round runs.
    let connection: PostgresConnection

    public init(settings: SelfTrainingSettings, group: String, conninfo: String) throws {
        try settings.validate()
        self.settings = settings
        self.group = group
        connection = try PostgresConnection(conninfo)
    }

    /// Whether a round is due: enough new unlabeled images since the last round, or the interval
    /// passed (counted from `since` when no round has run yet) with at least one.
    public func due(since start: Date) throws -> Due {
        let last = try connection.execute("""
            SELECT last_image_id, extract(epoch FROM finished_at) FROM self_training_rounds
            WHERE model = $1 AND consumer_group = $2 AND decision <> 'failed' ORDER BY id DESC LIMIT 1
            """, [.text(settings.model), .text(group)])
        let lastImage = last.rows.first.flatMap { Int($0[0]!) } ?? 0
        let lastTime = last.rows.first.flatMap { Double($0[1]!) }.map { Date(timeIntervalSince1970: $0) } ?? start
        let count = try StreamImagePools(connection: connection).unlabeledCount(for: settings.model, after: lastImage)
        if count >= settings.newImages { return Due(trigger: .newImages, newImages: count) }
        if count > 0, Date().timeIntervalSince(lastTime) >= Double(settings.intervalMinutes) * 60 {
            return Due(trigger: .interval, newImages: count)
        }
        return Due(trigger: nil, newImages: count)
    }

    /// Runs one round if this instance can lead its group; nil when another instance holds the
    /// leadership (it is training). `served` is the classifier the caller serves now: the
    /// registry's active version wins, and `served` is registered when its model is not yet.
    public func runRound(trigger: Trigger, served: GatedClassifier, pace: (Duration) throws -> Void = { _ in },
                         progress: (String) -> Void = { _ in }) throws -> Record? {
        guard try leadership(take: true) else { return nil }
        defer { _ = try? leadership(take: false) }
        let started = Date()
        let registry = ModelRegistry(connection: connection)
        let current = try registry.adopt(served, metrics: nil)
        let side = current.classifier.settings.inputSide
        do {
            let data = try TrainingData.load(settings.labeledData, side: side)
            let pools = StreamImagePools(connection: connection)
            var labeled = data.training.fraction(settings.labelFraction, seed: settings.labelSeed)
            labeled.images += try pools.labeled(for: settings.model, side: side)
            let (unlabeled, lastImageID) = try pools.unlabeled(for: settings.model, side: side,
                                                               limit: settings.maxUnlabeledImages)
            progress("round on \(labeled.count) labeled and \(unlabeled.count) unlabeled images, "
                     + "\(settings.round.steps(unlabeled: unlabeled.count)) steps, from \(current.name) \(current.version)")
            let outcome = try DistillationRound(options: settings.round).run(
                current: current, labeled: labeled, unlabeled: unlabeled, validation: data.validation, pace: pace,
                progress: { step in
                    progress(String(format: "step %d/%d  distillation %.4f  correction %.4f  %.0f s left", step.step, step.steps,
                                    step.distillationLoss, step.correctionLoss, step.remainingSeconds))
                })
            progress("candidate \(outcome.candidate.version): its applicability gate finds "
                     + String(format: "%.1f%%", 100 * outcome.candidateApplicableShare) + " of the validation films applicable")
            let decision = settings.gate.decide(current: outcome.currentValidation, candidate: outcome.candidateValidation)
            let recorded = try registry.record(candidate: outcome.candidate, parent: current.version,
                                               metrics: outcome.candidateValidation, promote: decision.promote)
            var reason = decision.reason
            if case .servedVersionChanged(let served) = recorded {
                reason += "; not promoted: \(settings.model) served \(served ?? "nothing") by the round's end, not "
                    + "\(current.version), which it trained from (promoted or rolled back meanwhile); kept as a candidate"
            }
            let record = Record(trigger: trigger, labeledImages: labeled.count, unlabeledImages: unlabeled.count,
                                teacherVersion: current.version, candidateVersion: outcome.candidate.version,
                                teacherValidation: outcome.currentValidation, candidateValidation: outcome.candidateValidation,
                                decision: recorded == .promoted ? "promoted" : "rejected", reason: reason,
                                seconds: Date().timeIntervalSince(started))
            try write(record, started: started, lastImageID: lastImageID, steps: outcome.steps)
            return record
        } catch {
            // A failed round is recorded too (when PostgreSQL still answers), then reported.
            let record = Record(trigger: trigger, labeledImages: 0, unlabeledImages: 0, teacherVersion: current.version,
                                candidateVersion: nil, teacherValidation: nil, candidateValidation: nil, decision: "failed",
                                reason: "\(error)", seconds: Date().timeIntervalSince(started))
            try? write(record, started: started, lastImageID: 0, steps: 0)
            throw error
        }
    }

    /// Takes (without waiting) or releases the group's leadership: a session advisory lock held
    /// on this connection, so that it ends with the connection should the process die.
    private func leadership(take: Bool) throws -> Bool {
        let key = "radstream.self-training.\(group).\(settings.model)"
        let function = take ? "pg_try_advisory_lock" : "pg_advisory_unlock"
        return try connection.execute("SELECT \(function)(hashtext($1))", [.text(key)]).scalar == "t"
    }

    private func write(_ record: Record, started: Date, lastImageID: Int, steps: Int) throws {
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
            """, [.text(settings.model), .text(group), .text(record.trigger.rawValue), .text(String(started.timeIntervalSince1970)),
                  .text(String(record.seconds)), .int(record.labeledImages), .int(record.unlabeledImages), .int(lastImageID),
                  .int(steps), .text(record.teacherVersion), .optional(record.candidateVersion),
                  try json(record.teacherValidation), try json(record.candidateValidation), .text(record.decision),
                  .text(record.reason)])
    }
}
