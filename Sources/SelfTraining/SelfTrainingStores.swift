import Foundation
import Models
import Training

// What a round reads and writes besides the networks themselves. PostgreSQL keeps all of it in
// the daemon (the `Registry` module: registry, round log, leadership; `Pipeline/Storage`: the
// stream's images); the rounds are written against these protocols so that they are tested
// without a server, as postgres-nio keeps its state machines apart from its I/O.

/// The images the stream has kept, as self-training reads them.
public protocol ImagePools {
    /// Images without a label for `model`: at most `limit`, the newest; and the id of the newest
    /// image the pool could hold, labeled or not, from which the next round counts.
    func unlabeled(for model: String, side: Int, limit: Int) throws -> (images: [[UInt8]], lastImageID: Int)
    /// How many images without a label for `model` have arrived after image `id`.
    func unlabeledCount(for model: String, after id: Int) throws -> Int
    /// Images whose events carried a label for the binary `model` (0 the first class, 1 the second).
    func labeled(for model: String, side: Int) throws -> [LabeledImage]
}

/// One round as the log keeps it.
public struct RoundEntry: Sendable, Equatable, Encodable {
    /// The log's own number, once written.
    public var id: Int?
    public var model: String
    public var group: String
    public var trigger: SelfTrainer.Trigger
    public var startedAt: Date
    public var seconds: Double
    public var labeledImages: Int
    public var unlabeledImages: Int
    /// The newest stream image the round's pool could hold: the next round counts from it.
    public var lastImageID: Int
    public var steps: Int
    public var teacherVersion: String
    public var candidateVersion: String?
    public var teacherValidation: ClassifierEvaluation?
    public var candidateValidation: ClassifierEvaluation?
    /// "promoted", "rejected" or "failed".
    public var decision: String
    public var reason: String

    public init(id: Int? = nil, model: String, group: String, trigger: SelfTrainer.Trigger, startedAt: Date, seconds: Double,
                labeledImages: Int, unlabeledImages: Int, lastImageID: Int, steps: Int, teacherVersion: String,
                candidateVersion: String?, teacherValidation: ClassifierEvaluation?, candidateValidation: ClassifierEvaluation?,
                decision: String, reason: String) {
        self.id = id
        self.model = model
        self.group = group
        self.trigger = trigger
        self.startedAt = startedAt
        self.seconds = seconds
        self.labeledImages = labeledImages
        self.unlabeledImages = unlabeledImages
        self.lastImageID = lastImageID
        self.steps = steps
        self.teacherVersion = teacherVersion
        self.candidateVersion = candidateVersion
        self.teacherValidation = teacherValidation
        self.candidateValidation = candidateValidation
        self.decision = decision
        self.reason = reason
    }

    public var finishedAt: Date { startedAt.addingTimeInterval(seconds) }
}

/// The record of every round.
public protocol RoundLog {
    /// The last round of `model` in `group` that did not fail.
    func lastCompleted(model: String, group: String) throws -> RoundEntry?
    func append(_ entry: RoundEntry) throws
}

/// What became of a round's candidate in the registry.
public enum CandidateOutcome: Sendable, Equatable {
    case promoted
    case kept
    /// The gate would have promoted it, but its parent was no longer served when the round
    /// ended (a person promoted or rolled back meanwhile): kept as a candidate instead.
    case servedVersionChanged(to: String?)
}

/// The versions of the models: which one is served, and the candidates rounds make.
public protocol ModelVersions {
    /// The version to serve for `served`'s model: the registered active one, or `served` itself,
    /// registered now, when its model is not registered yet.
    func adopt(_ served: GatedClassifier, metrics: ClassifierEvaluation?) throws -> GatedClassifier
    /// Records a candidate trained from `parent`: served at once when `promote` and `parent` is
    /// still the served version (a compare-and-set), kept as a candidate otherwise.
    func record(candidate: GatedClassifier, parent: String, metrics: ClassifierEvaluation, promote: Bool) throws -> CandidateOutcome
}

/// Only one instance of a consumer group trains a model at a time.
public protocol Leadership {
    /// Takes the leadership named `key` without waiting; false when another instance holds it.
    func take(_ key: String) throws -> Bool
    func release(_ key: String) throws
}
