import Foundation
import Models
import TensorEngine
import TestSupport
import Testing
@testable import Diffusion
@testable import Training

@Suite("The joint diffusion model: U-Net, training, checkpoint")
struct JointDiffusionTests {
    static let pneumonia = TestData.root.appending(path: "pneumoniamnist")

    /// A network small enough for tests: levels of 8 and 16 channels at 28 and 14 pixels.
    static func tinyOptions() -> JointDiffusionOptions {
        var options = JointDiffusionOptions()
        options.network = DiffusionUNet.Configuration(channels: [8, 16], groups: 4, timeDimension: 16, classifierHidden: 16)
        options.batchSize = 32
        options.labelledBatchSize = 16
        return options
    }

    @Test func theNetworkPredictsNoiseOfTheImagesShapeAndClassifiesFromItsEncoder() throws {
        let network = try DiffusionUNet(configuration: Self.tinyOptions().network, seed: 1)
        var generator = SeededGenerator(seed: 2)
        let images = Tensor(shape: [3, 1, 28, 28], data: (0..<(3 * 784)).map { _ in generator.normal() })
        #expect(network(images, steps: [0, 500, 999]).shape == [3, 1, 28, 28])
        #expect(network.logits(images).shape == [3, 2])
        // The pooled features: one encoder block per level (8 + 16), then the middle (16).
        #expect(network.encode(images, steps: [1, 2, 3]).pooled.shape == [3, 40])
        // The output convolution starts at zero: the first prediction of the noise is zero.
        #expect(network(images, steps: [1, 2, 3]).data.allSatisfy { $0 == 0 })
        #expect(throws: DiffusionError.self) { try DiffusionUNet(configuration: .init(channels: [12, 16], groups: 8), seed: 1) }
        #expect(throws: DiffusionError.self) { try DiffusionUNet(configuration: .init(side: 28, channels: [8, 8, 8, 8], groups: 4), seed: 1) }
    }

    @Test func timestepEmbeddingsAreSinesAndCosines() {
        let embedding = DiffusionUNet.timestepEmbedding([0, 10], width: 4).data
        // Step 0: sines 0, cosines 1; step 10 at frequencies 1 and 1/100.
        #expect(embedding[0...3] == [0, 0, 1, 1])
        #expect(abs(embedding[4] - Float(sin(10.0))) < 1e-6 && abs(embedding[5] - Float(sin(0.1))) < 1e-6)
        #expect(abs(embedding[6] - Float(cos(10.0))) < 1e-6 && abs(embedding[7] - Float(cos(0.1))) < 1e-6)
    }

    @Test func theScheduleNoisesMoreAtEachStepAndDDIMStepsDescend() {
        let schedule = NoiseSchedule()
        let alphaBars = schedule.alphaBars
        #expect(alphaBars.count == 1000 && abs(alphaBars[0] - (1 - 1e-4)) < 1e-12)
        #expect(zip(alphaBars, alphaBars.dropFirst()).allSatisfy { $0 > $1 } && alphaBars[999] < 1e-4)
        #expect(schedule.ddimSteps(from: 999, count: 4) == [999, 666, 333, 0])
        #expect(schedule.ddimSteps(from: 2, count: 10) == [2, 1, 0])
        #expect(schedule.ddimSteps(from: 250, count: 1) == [250])
    }

    /// A few epochs on a few hundred films lower the denoising loss well below the loss of
    /// predicting no noise at all (1, the noise's variance), and the head learns from its labels.
    @Test func trainingLowersTheDenoisingLossAndTeachesTheHead() throws {
        let training = try BinaryLabelFolder.load(Self.pneumonia.appending(path: "train"), side: 28).fraction(0.08, seed: 4)
        let validation = try BinaryLabelFolder.load(Self.pneumonia.appending(path: "val"), side: 28).fraction(0.3, seed: 4)
        var options = Self.tinyOptions()
        options.epochs = 8
        options.batchSize = 16
        options.emaDecay = 0.9
        options.classificationWeight = 0.1
        var reports: [DiffusionProgress] = []
        let outcome = try JointDiffusionTrainer(name: "pneumonia", options: options).train(training: training, validation: validation,
                                                                                           progress: { reports.append($0) })
        #expect(reports.last?.step == reports.last?.steps && reports.count >= 2)
        #expect(reports.last!.denoisingLoss < reports.first!.denoisingLoss, "\(reports.map(\.denoisingLoss))")
        #expect(outcome.validationDenoisingLoss < 0.2, "\(outcome.validationDenoisingLoss)")
        #expect(outcome.validation.auc > 0.85, "AUC \(outcome.validation.auc)")
        #expect(outcome.model.settings.threshold != nil && outcome.model.settings.version != "untrained")
        #expect(outcome.labelledImages + outcome.calibration.images == training.count)
    }

    @Test func aCheckpointReadsBackToTheSameModel() throws {
        let network = try DiffusionUNet(configuration: Self.tinyOptions().network, seed: 3)
        var settings = JointDiffusionModel.settings(name: "pneumonia", classes: ["normal", "pneumonia"], side: 28)
        settings.threshold = 0.4
        let model = JointDiffusionModel(network: network, schedule: NoiseSchedule(), settings: settings)
        let file = FileManager.default.temporaryDirectory.appending(path: "joint-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try model.save(to: file)
        let read = try JointDiffusionModel(contentsOf: file)
        #expect(read.settings == settings && read.schedule == model.schedule && read.network.configuration == network.configuration)
        let films = [[UInt8](repeating: 100, count: 784), (0..<784).map { UInt8($0 % 256) }]
        #expect(read.logits(films) == model.logits(films))
        #expect(throws: CheckpointError.self) { try JointDiffusionModel(checkpoint: Safetensors(tensors: [:], metadata: ["format": "other"])) }
    }
}
