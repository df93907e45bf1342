import Foundation
import Models
import SelfTraining
import TestSupport
import Testing
@testable import Pipeline

@Suite("Self-training in the daemon: configuration and served versions")
struct SelfTrainingConfigurationTests {
    static let models = TestData.packageRoot.appending(path: "models")

    @Test func theSectionMergesAndTheEnvironmentTurnsItOn() throws {
        let json = #"{"selfTraining": {"newImages": 200, "gate": {"minimumAUCGain": 0.001}, "round": {"epochs": 2}}}"#
        var configuration = try RadStreamConfiguration.standard.merging(json: Data(json.utf8), source: "test")
        #expect(configuration.selfTraining.newImages == 200 && configuration.selfTraining.intervalMinutes == 1440)
        #expect(configuration.selfTraining.gate == PromotionGate(minimumAUCGain: 0.001, calibrationTolerance: 0.02))
        #expect(configuration.selfTraining.round.epochs == 2 && configuration.selfTraining.round.correctionEvery == 3)
        #expect(!configuration.selfTraining.enabled)
        try configuration.apply(environment: ["RADSTREAM_SELF_TRAINING": "true", "RADSTREAM_SELF_TRAINING_DATA": "/data/pneumoniamnist"])
        #expect(configuration.selfTraining.enabled && configuration.selfTraining.labeledData == "/data/pneumoniamnist")
    }

    /// A daemon told to self-train without labels, or a model it does not serve, does not start.
    @Test func aConfigurationThatCannotSelfTrainStopsTheStart() throws {
        var configuration = RadStreamConfiguration.standard
        configuration.selfTraining.enabled = true
        #expect(throws: ConfigurationError.self) { try SelfTrainingScheduler.check(configuration, serving: ["pneumonia"]) }
        configuration.selfTraining.labeledData = TestData.root.appending(path: "pneumoniamnist").path
        try SelfTrainingScheduler.check(configuration, serving: ["pneumonia"])
        #expect(throws: ConfigurationError.self) { try SelfTrainingScheduler.check(configuration, serving: ["covid"]) }
        configuration.selfTraining.cpuShare = 0
        #expect(throws: SelfTrainingError.self) { try SelfTrainingScheduler.check(configuration, serving: ["pneumonia"]) }
    }

    /// A new version waits until the consumer takes it, between batches; offering what is
    /// already served or waiting changes nothing; the processor then runs the new version, with
    /// the gate that version came with (none: its films are not judged), and a version swapped
    /// back brings its own again.
    @Test func aNewVersionWaitsForTheNextBatch() throws {
        let shipped = try #require(try ModelStore.gatedClassifiers(at: Self.models).first { $0.name == "pneumonia" })
        #expect(shipped.gate?.modelVersion == shipped.version)
        var settings = shipped.classifier.settings
        settings.version = "next"
        let next = GatedClassifier(ImageClassifier(network: shipped.classifier.network, settings: settings), gate: nil)
        let served = ServedModels([shipped])
        #expect(!served.offer(shipped))
        #expect(served.offer(next) && !served.offer(next))
        #expect(served.classifier(named: "pneumonia")?.version == shipped.version)
        #expect(served.latestVersion(of: "pneumonia") == "next")
        #expect(served.takeWaiting().map(\.version) == ["next"] && served.takeWaiting().isEmpty)
        #expect(served.classifier(named: "pneumonia")?.version == "next")

        var configuration = RadStreamConfiguration.standard
        configuration.models.directory = Self.models.path
        configuration.models.summarizeReports = false
        configuration.models.captionImages = false
        let processor = try EventProcessor(configuration: configuration)
        let swapped = processor.replacing(next)
        #expect(processor.classifiers.map(\.version) == [try ModelStore.classifiers(at: Self.models).first!.settings.version, shipped.version])
        #expect(swapped.classifiers.map(\.name) == ["covid", "pneumonia"] && swapped.classifiers.last?.version == "next")
        func gate(_ processor: EventProcessor) -> ApplicabilityGate? {
            processor.imageBatchStages.compactMap { $0 as? ClassifierStage }.first { $0.classifier.settings.name == "pneumonia" }?.gate
        }
        #expect(gate(processor)?.modelVersion == shipped.version && gate(swapped) == nil)
        #expect(gate(swapped.replacing(shipped))?.modelVersion == shipped.version)
    }
}
