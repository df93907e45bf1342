import Foundation
import Models
import TestSupport
import Testing
@testable import SelfTraining
import Training

/// The round's bookkeeping (when one is due, who leads, what is recorded) on stores kept in
/// memory: no server is needed to know what the trainer does with them.
@Suite("The self-trainer on its stores")
struct SelfTrainerTests {
    final class Stores: ImagePools, RoundLog, ModelVersions, Leadership, @unchecked Sendable {
        var unlabeledImages: [[UInt8]] = []
        var newestImage = 0
        var entries: [RoundEntry] = []
        var recorded: [(candidate: String, parent: String, promote: Bool)] = []
        var held: Set<String> = []
        var othersLead = false

        func unlabeled(for model: String, side: Int, limit: Int) throws -> (images: [[UInt8]], lastImageID: Int) {
            (Array(unlabeledImages.suffix(limit)), newestImage)
        }
        func unlabeledCount(for model: String, after id: Int) throws -> Int { max(0, newestImage - id) }
        func labeled(for model: String, side: Int) throws -> [LabeledImage] { [] }
        func lastCompleted(model: String, group: String) throws -> RoundEntry? {
            entries.last { $0.model == model && $0.group == group && $0.decision != "failed" }
        }
        func append(_ entry: RoundEntry) throws {
            var entry = entry
            entry.id = entries.count + 1
            entries.append(entry)
        }
        func adopt(_ served: GatedClassifier, metrics: ClassifierEvaluation?) throws -> GatedClassifier { served }
        func record(candidate: GatedClassifier, parent: String, metrics: ClassifierEvaluation, promote: Bool) throws -> CandidateOutcome {
            recorded.append((candidate.version, parent, promote))
            return promote ? .promoted : .kept
        }
        func take(_ key: String) throws -> Bool {
            guard !othersLead, !held.contains(key) else { return false }
            held.insert(key)
            return true
        }
        func release(_ key: String) throws { held.remove(key) }
    }

    static func settings() -> SelfTrainingSettings {
        var settings = SelfTrainingSettings.standard
        settings.labeledData = TestData.root.appending(path: "pneumoniamnist").path
        settings.labelFraction = 0.03
        settings.newImages = 100
        settings.intervalMinutes = 60
        settings.round.epochs = 1
        settings.round.batchSize = 32
        settings.round.minSteps = 6
        settings.round.maxSteps = 6
        settings.gate = PromotionGate(minimumAUCGain: -1, calibrationTolerance: 1)  // the bookkeeping, not the figures
        return settings
    }

    static func trainer(_ stores: Stores, settings: SelfTrainingSettings = settings()) throws -> SelfTrainer {
        try SelfTrainer(settings: settings, group: "group", pools: stores, log: stores, versions: stores, leadership: stores)
    }

    @Test func aRoundIsDueOnNewImagesOrOnTheIntervalCountedFromTheLastRound() throws {
        let stores = Stores()
        let trainer = try Self.trainer(stores)
        stores.newestImage = 99
        #expect(try trainer.due(since: Date()) == SelfTrainer.Due(trigger: nil, newImages: 99))
        #expect(try trainer.due(since: Date().addingTimeInterval(-3601)).trigger == .interval)
        stores.newestImage = 100
        #expect(try trainer.due(since: Date()).trigger == .newImages)
        // After a round that saw image 100, the count starts again from there; a failed round does not count.
        try stores.append(RoundEntry(model: "pneumonia", group: "group", trigger: .newImages, startedAt: Date(), seconds: 1,
                                     labeledImages: 1, unlabeledImages: 100, lastImageID: 100, steps: 1, teacherVersion: "a",
                                     candidateVersion: "b", teacherValidation: nil, candidateValidation: nil,
                                     decision: "rejected", reason: ""))
        try stores.append(RoundEntry(model: "pneumonia", group: "group", trigger: .manual, startedAt: Date(), seconds: 1,
                                     labeledImages: 0, unlabeledImages: 0, lastImageID: 0, steps: 0, teacherVersion: "a",
                                     candidateVersion: nil, teacherValidation: nil, candidateValidation: nil,
                                     decision: "failed", reason: "x"))
        stores.newestImage = 150
        #expect(try trainer.due(since: Date().addingTimeInterval(-7200)) == SelfTrainer.Due(trigger: nil, newImages: 50))
    }

    @Test func aRoundRecordsItsCandidateAndItselfAndReleasesTheLeadership() throws {
        let stores = Stores()
        let (current, _, unlabeled, _) = try DistillationRoundTests.startingPoint()
        stores.unlabeledImages = Array(unlabeled.prefix(200))
        stores.newestImage = 200
        let record = try #require(try Self.trainer(stores).runRound(trigger: .newImages, served: current))
        #expect(record.decision == "promoted" && record.teacherVersion == current.version)
        #expect(stores.recorded.count == 1 && stores.recorded[0].parent == current.version && stores.recorded[0].promote)
        #expect(stores.entries.count == 1 && stores.entries[0].lastImageID == 200 && stores.entries[0].steps == 6)
        #expect(stores.entries[0].candidateVersion == record.candidateVersion && stores.entries[0].candidateValidation != nil)
        #expect(stores.held.isEmpty)
    }

    @Test func nothingRunsWhileAnotherInstanceLeads() throws {
        let stores = Stores()
        stores.othersLead = true
        let (current, _, _, _) = try DistillationRoundTests.startingPoint()
        #expect(try Self.trainer(stores).runRound(trigger: .manual, served: current) == nil)
        #expect(stores.entries.isEmpty && stores.recorded.isEmpty)
    }

    @Test func aFailedRoundIsLoggedAndReported() throws {
        let stores = Stores()
        var settings = Self.settings()
        settings.labeledData = "/nonexistent/labels"
        let (current, _, _, _) = try DistillationRoundTests.startingPoint()
        #expect(throws: (any Error).self) { try Self.trainer(stores, settings: settings).runRound(trigger: .manual, served: current) }
        #expect(stores.entries.map(\.decision) == ["failed"] && stores.recorded.isEmpty && stores.held.isEmpty)
    }
}
