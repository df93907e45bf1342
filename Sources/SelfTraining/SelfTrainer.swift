import Foundation
import Models
import Training

/// Runs self-training rounds: takes the leadership of its consumer group, reads the pools, runs
/// a `DistillationRound`, lets the `PromotionGate` decide, and records the candidate with the
/// model versions (served at once when promoted) and the round in the round log. `radstream
/// serve` and `self-train --now` both call it, on PostgreSQL (`SelfTrainer.connected` in
/// Pipeline); the tests call it on memory.
public final class SelfTrainer {
    public enum Trigger: String, Sendable, Codable { case newImages = "new-images", interval, manual }

    /// What a round reports to its caller.
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
    let pools: any ImagePools
    let log: any RoundLog
    let versions: any ModelVersions
    let leadership: any Leadership

    public init(settings: SelfTrainingSettings, group: String, pools: any ImagePools, log: any RoundLog,
                versions: any ModelVersions, leadership: any Leadership) throws {
        try settings.validate()
        self.settings = settings
        self.group = group
        self.pools = pools
        self.log = log
        self.versions = versions
        self.leadership = leadership
    }

    /// Whether a round is due: enough new unlabeled images since the last round, or the interval
    /// passed (counted from `since` when no round has run yet) with at least one.
    public func due(since start: Date) throws -> Due {
        let last = try log.lastCompleted(model: settings.model, group: group)
        let count = try pools.unlabeledCount(for: settings.model, after: last?.lastImageID ?? 0)
        if count >= settings.newImages { return Due(trigger: .newImages, newImages: count) }
        if count > 0, Date().timeIntervalSince(last?.finishedAt ?? start) >= Double(settings.intervalMinutes) * 60 {
            return Due(trigger: .interval, newImages: count)
        }
        return Due(trigger: nil, newImages: count)
    }

    /// Runs one round if this instance can lead its group; nil when another instance holds the
    /// leadership (it is training). `served` is the classifier the caller serves now: the
    /// registry's active version wins, and `served` is registered when its model is not yet.
    public func runRound(trigger: Trigger, served: GatedClassifier, pace: (Duration) throws -> Void = { _ in },
                         progress: (String) -> Void = { _ in }) throws -> Record? {
        let key = "radstream.self-training.\(group).\(settings.model)"
        guard try leadership.take(key) else { return nil }
        defer { try? leadership.release(key) }
        let started = Date()
        let current = try versions.adopt(served, metrics: nil)
        let side = current.classifier.settings.inputSide
        do {
            let data = try TrainingData.load(settings.labeledData, side: side)
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
            let recorded = try versions.record(candidate: outcome.candidate, parent: current.version,
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
            try log.append(entry(record, started: started, lastImageID: lastImageID, steps: outcome.steps))
            return record
        } catch {
            // A failed round is recorded too (when the log still answers), then reported.
            let record = Record(trigger: trigger, labeledImages: 0, unlabeledImages: 0, teacherVersion: current.version,
                                candidateVersion: nil, teacherValidation: nil, candidateValidation: nil, decision: "failed",
                                reason: "\(error)", seconds: Date().timeIntervalSince(started))
            try? log.append(entry(record, started: started, lastImageID: 0, steps: 0))
            throw error
        }
    }

    private func entry(_ record: Record, started: Date, lastImageID: Int, steps: Int) -> RoundEntry {
        RoundEntry(model: settings.model, group: group, trigger: record.trigger, startedAt: started, seconds: record.seconds,
                   labeledImages: record.labeledImages, unlabeledImages: record.unlabeledImages, lastImageID: lastImageID,
                   steps: steps, teacherVersion: record.teacherVersion, candidateVersion: record.candidateVersion,
                   teacherValidation: record.teacherValidation, candidateValidation: record.candidateValidation,
                   decision: record.decision, reason: record.reason)
    }
}
