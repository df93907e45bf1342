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

    /// A tiny model trained once for the suite: a few epochs on a few hundred films.
    struct Trained: @unchecked Sendable {  // read only, once made
        let outcome: JointDiffusionOutcome
        let reports: [DiffusionProgress]
        let training: LabeledImageSet
        let validation: LabeledImageSet
    }

    static let trained: Trained = {
        let training = try! BinaryLabelFolder.load(pneumonia.appending(path: "train"), side: 28).fraction(0.08, seed: 4)
        let validation = try! BinaryLabelFolder.load(pneumonia.appending(path: "val"), side: 28).fraction(0.3, seed: 4)
        var options = tinyOptions()
        options.epochs = 8
        options.batchSize = 16
        options.emaDecay = 0.9
        options.classificationWeight = 0.1
        var reports: [DiffusionProgress] = []
        let outcome = try! JointDiffusionTrainer(name: "pneumonia", options: options).train(training: training, validation: validation,
                                                                                            progress: { reports.append($0) })
        return Trained(outcome: outcome, reports: reports, training: training, validation: validation)
    }()

    /// Training lowers the denoising loss well below the loss of predicting no noise at all (1,
    /// the noise's variance), and the head learns from its labels.
    @Test func trainingLowersTheDenoisingLossAndTeachesTheHead() throws {
        let (outcome, reports) = (Self.trained.outcome, Self.trained.reports)
        #expect(reports.last?.step == reports.last?.steps && reports.count >= 2)
        #expect(reports.last!.denoisingLoss < reports.first!.denoisingLoss, "\(reports.map(\.denoisingLoss))")
        #expect(outcome.validationDenoisingLoss < 0.2, "\(outcome.validationDenoisingLoss)")
        #expect(outcome.validation.auc > 0.85, "AUC \(outcome.validation.auc)")
        #expect(outcome.model.settings.threshold != nil && outcome.model.settings.version != "untrained")
        #expect(outcome.labelledImages + outcome.calibration.images == Self.trained.training.count)
    }

    /// DDIM without guidance from a step that adds little noise gives the film back, nearly.
    @Test func unguidedDDIMFromASmallStepReturnsNearlyTheFilm() throws {
        let model = Self.trained.outcome.model
        let films = Self.trained.validation.images.prefix(16).map(\.pixels)
        let made = DiffusionSampler(model: model).counterfactuals(films, targets: [Int](repeating: 0, count: films.count),
                                                                  startStep: 5, steps: 5, guidance: 0, seed: 3)
        func meanChange(_ a: [UInt8], _ b: [UInt8]) -> Double { zip(a, b).map { abs(Double($0) - Double($1)) / 255 }.reduce(0, +) / 784 }
        let l1 = zip(films, made).map(meanChange)
        #expect(l1.allSatisfy { $0 < 0.03 }, "\(l1)")
        // From the middle of the schedule it is a different film.
        let far = DiffusionSampler(model: model).counterfactuals(films, targets: [Int](repeating: 0, count: films.count),
                                                                 startStep: 600, steps: 10, guidance: 0, seed: 3)
        let farL1 = zip(films, far).map(meanChange)
        let (near, farther): (Double, Double) = (l1.reduce(0, +) / Double(l1.count), farL1.reduce(0, +) / Double(farL1.count))
        #expect(farther > 2 * near, "from step 600 \(farther), from step 5 \(near)")
    }

    /// The head's guidance raises the probability of the class asked for, over the same films
    /// denoised from the same noise without it, and flips more of them.
    @Test func guidanceRaisesTheTargetClassProbability() throws {
        let model = Self.trained.outcome.model
        let films = Self.trained.validation.images.prefix(32).map(\.pixels)
        func run(_ guidance: Float) throws -> [Counterfactual] {
            try CounterfactualExplainer(model: model, options: .init(startStep: 300, steps: 10, guidance: guidance, seed: 5)).explain(films)
        }
        let (plain, guided) = (try run(0), try run(20))
        func towardTarget(_ made: [Counterfactual]) -> Double {
            made.map { Double($0.to == 1 ? $0.probabilityAfter : 1 - $0.probabilityAfter) }.reduce(0, +) / Double(made.count)
        }
        #expect(towardTarget(guided) > towardTarget(plain) + 0.05, "guided \(towardTarget(guided)), plain \(towardTarget(plain))")
        #expect(guided.filter(\.flipped).count > plain.filter(\.flipped).count)
        let wellFormed = guided.allSatisfy { (made: Counterfactual) -> Bool in
            made.from != made.to && made.pixels.count == 784 && made.l1 >= 0 && made.changedFraction >= 0 && made.changedFraction <= 1
        }
        #expect(wellFormed)
        // Explaining another classifier's calls: from the class it called, toward the other one.
        let called = try CounterfactualExplainer(model: model, options: .init(startStep: 300, steps: 2, guidance: 20, seed: 5))
            .explain(Array(films.prefix(4)), calls: [1, 1, 0, 1])
        #expect(called.map(\.from) == [1, 1, 0, 1] && called.map(\.to) == [0, 0, 1, 0])
    }

    /// Asked to stop, an explanation ends within a sampling step and gives nothing (a daemon that
    /// is stopping abandons its batch rather than wait for it, or store half-made films).
    @Test func anExplanationAskedToStopEndsWithinAStep() throws {
        let explainer = try CounterfactualExplainer(model: Self.trained.outcome.model,
                                                    options: .init(startStep: 300, steps: 10, guidance: 8, inversion: true, seed: 5))
        let films = Array(Self.trained.validation.images.prefix(4).map(\.pixels))
        var asked = 0
        #expect(explainer.explain(films, unless: { asked += 1; return asked > 3 }) == nil)
        #expect(asked <= 6, "sampling went on for \(asked) checks after the stop")  // 20 steps (inversion and denoising) unstopped
        #expect(explainer.explain(films, unless: { false })?.count == 4)
    }

    /// The experiment trains the three models on the same labelled films and measures each on
    /// `val`; the supervised-only encoder learns nothing of denoising.
    /// The experiment with one epoch of the tiny U-Net and a short CNN recipe.
    static func quickExperiment() -> SemiSupervisedExperiment {
        var options = Self.tinyOptions()
        options.epochs = 1
        var classifierOptions = ClassifierTrainingOptions()
        classifierOptions.epochs = 1
        classifierOptions.batchSize = 32
        return SemiSupervisedExperiment(options: options, classifierOptions: classifierOptions)
    }

    @Test func theSemiSupervisedExperimentComparesThreeModelsOnTheSameLabels() throws {
        var lines: [String] = []
        let rows = try Self.quickExperiment()
            .run(name: "pneumonia", training: Self.trained.training, validation: Self.trained.validation, fractions: [0.5],
                 progress: { lines.append($0) })
        #expect(rows.map(\.model) == SemiSupervisedExperiment.models)
        #expect(Set(rows.map(\.labelledImages)).count == 1 && rows[0].labelledImages < Self.trained.training.count / 2)
        #expect(rows.allSatisfy { $0.fold == nil && $0.evaluation.images == Self.trained.validation.count && $0.evaluation.aucInterval != nil })
        #expect(lines.contains { $0.contains("labels only") })
    }

    /// Cross-validated, every model of a fold is measured on that fold's films, which its
    /// training set left out, and the summary pairs the models fold by fold.
    @Test func theSemiSupervisedExperimentCrossValidatesOverTrain() throws {
        let training = Self.trained.training
        let rows = try Self.quickExperiment()
            .crossValidate(name: "pneumonia", training: training, folds: 2, fractions: [0.5])
        #expect(rows.map(\.fold) == [1, 1, 1, 2, 2, 2])
        let measured = [1, 2].map { fold in rows.first { $0.fold == fold }!.evaluation.images }
        #expect(measured.reduce(0, +) == training.count)
        // Half the labels of the other fold (about a quarter of train), less the calibration tenth.
        #expect(rows.allSatisfy { $0.labelledImages < training.count / 4 + 2 })
        let summary = SemiSupervisedExperiment.summarize(rows)
        #expect(summary.map(\.model) == SemiSupervisedExperiment.models && summary.allSatisfy { $0.folds == 2 })
        let joint = summary[0], cnn = rows.filter { $0.model == SemiSupervisedExperiment.models[2] }
        let expected = zip(rows.filter { $0.model == SemiSupervisedExperiment.models[0] }, cnn).map { $0.evaluation.auc - $1.evaluation.auc }
        #expect(abs(joint.aucAbove[SemiSupervisedExperiment.models[2]]!.mean - expected.reduce(0, +) / 2) < 1e-12)
    }

    @Test func optionsWrittenBeforeTheAverageWarmedUpReadWithoutIt() throws {
        #expect(JointDiffusionOptions().emaWarmUp)
        var written = try JSONSerialization.jsonObject(with: JSONEncoder().encode(JointDiffusionOptions())) as! [String: Any]
        written["emaWarmUp"] = nil
        written["augmentation"] = nil
        let read = try JSONDecoder().decode(JointDiffusionOptions.self, from: JSONSerialization.data(withJSONObject: written))
        #expect(!read.emaWarmUp && read.augmentation == nil && read.epochs == JointDiffusionOptions().epochs)
    }

    @Test func theDifferenceMapIsRedWhereBrighterAndBlueWhereDarker() {
        let map = CounterfactualExplainer.differenceMap(original: [100, 100, 100], counterfactual: [100, 200, 0])
        #expect(Array(map[0..<3]) == [100, 100, 100])
        #expect(map[3] == 255 && map[4] == 0 && map[5] == 0)
        #expect(map[6] == 0 && map[7] == 0 && map[8] == 255)
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

@Suite("The shipped joint diffusion model")
struct ShippedDiffusionModelTests {
    static let folder = TestData.packageRoot.appending(path: "models/diffusion")

    /// Its head on `val`, and its denoising loss there, are what its manifest records; the
    /// manifest says what chose each setting and how it was made.
    @Test func theShippedModelReproducesItsManifest() throws {
        let model = try JointDiffusionModel(contentsOf: Self.folder)
        let manifest = try ManifestFile.read(DiffusionManifest.self, from: Self.folder)
        #expect(manifest.version == model.settings.version && manifest.parameters == model.network.parameterCount)
        #expect(manifest.command.contains("train diffusion") && manifest.commit != "unknown" && !manifest.commit.hasSuffix("-dirty"))
        #expect(manifest.choices["validation"]?.contains("chose nothing") == true)
        #expect(manifest.history.map(\.epoch) == Array(1...manifest.options.epochs))
        let validation = try TrainingData.load(TestData.packageRoot.appending(path: manifest.data.source).path, side: 28).validation
        let evaluation = ClassifierEvaluation(settings: model.settings, logits: model.logits(validation.images.map(\.pixels)),
                                              labels: validation.images.map(\.label), intervals: false)
        #expect(abs(evaluation.auc - manifest.validation.auc) < 1e-6 && abs(evaluation.accuracy - manifest.validation.accuracy) < 1e-6)
        let loss = JointDiffusionTrainer.denoisingLoss(of: model, on: validation.images.map(\.pixels), seed: manifest.options.seed)
        #expect(abs(loss - manifest.validationDenoisingLoss) < 1e-4, "\(loss) against \(manifest.validationDenoisingLoss)")
    }
}
