import Foundation
import Models
import TensorEngine
import TestSupport
import Testing
@testable import SelfTraining
@testable import Training

@Suite("A self-training round")
struct DistillationRoundTests {
    static let pneumonia = TestData.root.appending(path: "pneumoniamnist")

    /// A small classifier trained on a few labels, with a gate fitted to it, the rest of the
    /// images as the unlabeled pool.
    static func startingPoint() throws -> (current: GatedClassifier, labeled: LabeledImageSet, unlabeled: [[UInt8]],
                                           validation: LabeledImageSet) {
        let validation = try BinaryLabelFolder.load(pneumonia.appending(path: "val"), side: 28)
        let pool = try BinaryLabelFolder.load(pneumonia.appending(path: "train"), side: 28).fraction(0.15, seed: 3)
        let labeled = pool.fraction(0.1, seed: 1)
        let labeledFiles = Set(labeled.images.map(\.file))
        var options = ClassifierTrainingOptions()
        options.epochs = 3
        options.batchSize = 32
        options.channels = [4, 8, 8]
        let outcome = try ClassifierTrainer(name: "pneumonia", options: options).train(training: labeled, validation: validation)
        // A stand-in population check would do for carrying it over; a trained classifier (its
        // own, refusing nothing) is what the gate can hold.
        let population = ApplicabilityGate.PopulationCheck(refuses: "nothing", classifier: outcome.classifier, minimumOwnProbability: 0)
        let gate = ApplicabilityFitting.fit(outcome.classifier, training: labeled).gate.with(populationCheck: population)
        return (GatedClassifier(outcome.classifier, gate: gate), labeled,
                pool.images.filter { !labeledFiles.contains($0.file) }.map(\.pixels), validation)
    }

    @Test func aRoundTrainsACalibratedCandidateAndMeasuresBothModels() throws {
        let (current, labeled, unlabeled, validation) = try Self.startingPoint()
        var options = DistillationOptions()
        options.epochs = 2
        options.batchSize = 32
        options.minSteps = 10
        var reports: [RoundProgress] = []
        var paced = 0
        let outcome = try DistillationRound(options: options).run(
            current: current, labeled: labeled, unlabeled: unlabeled, validation: validation,
            pace: { _ in paced += 1 }, progress: { reports.append($0) })
        #expect(outcome.steps == options.steps(unlabeled: unlabeled.count) && paced == outcome.steps)
        #expect(reports.last?.step == outcome.steps && reports.allSatisfy { $0.distillationLoss > 0 && $0.correctionLoss > 0 })
        #expect(outcome.unlabeledImages == unlabeled.count && outcome.labeledImages == labeled.count)
        #expect(outcome.candidate.version != current.version)
        #expect(outcome.candidate.classifier.settings.threshold != nil)
        // The candidate's own gate, on its own features, with the current population check.
        let gate = try #require(outcome.candidate.gate)
        #expect(gate.modelVersion == outcome.candidate.version && gate.minimumScore == current.gate?.minimumScore)
        #expect(gate.populationCheck?.classifier.settings.version == current.version && gate.populationCheck?.refuses == "nothing")
        #expect(outcome.candidateApplicableShare > 0.9, "\(outcome.candidateApplicableShare)")
        // The current model is measured as it is served: its own temperature and threshold.
        let served = ClassifierEvaluation(classifier: current.classifier, set: validation, intervals: false)
        #expect(outcome.currentValidation == served)
        #expect(outcome.candidateValidation.auc > 0.8, "candidate AUC \(outcome.candidateValidation.auc)")
    }

    @Test func aRoundEndsWhenItsPaceThrows() throws {
        let (current, labeled, unlabeled, validation) = try Self.startingPoint()
        struct Stop: Error {}
        var steps = 0
        #expect(throws: Stop.self) {
            _ = try DistillationRound(options: DistillationOptions()).run(
                current: current, labeled: labeled, unlabeled: unlabeled, validation: validation,
                pace: { _ in steps += 1; if steps == 3 { throw Stop() } })
        }
        #expect(steps == 3)
    }

    @Test func nothingToLearnFromOrTheWrongSizeIsRefused() throws {
        let (current, labeled, unlabeled, validation) = try Self.startingPoint()
        let round = DistillationRound(options: DistillationOptions())
        #expect(throws: SelfTrainingError.self) {
            _ = try round.run(current: current, labeled: labeled, unlabeled: [], validation: validation)
        }
        #expect(throws: SelfTrainingError.self) {
            _ = try round.run(current: current, labeled: labeled, unlabeled: [[UInt8](repeating: 0, count: 64)], validation: validation)
        }
        var options = DistillationOptions()
        options.correctionEvery = 1
        #expect(throws: SelfTrainingError.self) {
            _ = try DistillationRound(options: options).run(current: current, labeled: labeled, unlabeled: unlabeled, validation: validation)
        }
    }

    @Test func theTeacherFollowsTheStudentAsAMovingAverage() {
        let configuration = ResidualCNN.Configuration(channels: [2, 2, 2])
        let student = ResidualCNN(configuration: configuration, seed: 1), teacher = ResidualCNN(configuration: configuration, seed: 2)
        let before = teacher.parameters["fc.weight"]!.data, target = student.parameters["fc.weight"]!.data
        student.runningStatistics["stem.bn"] = ([1, 1], [3, 3])
        DistillationRound.follow(student, with: teacher, decay: 0.75)
        for i in before.indices { #expect(abs(teacher.parameters["fc.weight"]!.data[i] - (0.75 * before[i] + 0.25 * target[i])) < 1e-6) }
        #expect(teacher.runningStatistics["stem.bn"]!.mean == [0.25, 0.25] && teacher.runningStatistics["stem.bn"]!.variance == [1.5, 1.5])
    }

    /// The statistics a round leaves come from augmented views; measured again on plain images
    /// they no longer depend on what was there before, and on one batch of all the images the
    /// network evaluates them as it would in training.
    @Test func batchStatisticsAreMeasuredAgainOnPlainImages() throws {
        let (current, _, unlabeled, _) = try Self.startingPoint()
        let images = Array(unlabeled.prefix(64))
        func recomputed(startingFrom garbage: Float) throws -> ResidualCNN {
            let network = try ResidualCNN(configuration: current.classifier.network.configuration,
                                          tensors: current.classifier.network.checkpointTensors())
            for layer in network.runningStatistics.keys {
                let channels = network.runningStatistics[layer]!.mean.count
                network.runningStatistics[layer] = ([Float](repeating: garbage, count: channels), [Float](repeating: garbage * garbage, count: channels))
            }
            var generator = SeededGenerator(seed: 1)
            DistillationRound.recomputeBatchStatistics(of: network, on: images, settings: current.classifier.settings, batchSize: 64,
                                                       generator: &generator)
            return network
        }
        let first = try recomputed(startingFrom: 5), second = try recomputed(startingFrom: -3)
        #expect(first.runningStatistics["stem.bn"]!.mean == second.runningStatistics["stem.bn"]!.mean)
        #expect(first.runningStatistics["stage3.bn2"]!.variance == second.runningStatistics["stage3.bn2"]!.variance)
        var generator = SeededGenerator(seed: 2)
        let input = InputBatch.make(images, side: 28, settings: current.classifier.settings, augmentation: nil, generator: &generator)
        let evaluated = first.frozen()(input, training: false).data
        let trained = first(input, training: true).data
        // Running variances are unbiased (n − 1), batch variances not: close, not equal.
        #expect(zip(evaluated, trained).allSatisfy { abs($0 - $1) < 0.05 }, "\(zip(evaluated, trained).map { abs($0 - $1) }.max()!)")
    }

    @Test func stepsCoverThePoolWithinTheBounds() {
        var options = DistillationOptions()
        options.batchSize = 100
        options.epochs = 3
        options.correctionEvery = 3
        options.minSteps = 10
        options.maxSteps = 100
        #expect(options.steps(unlabeled: 1000) == 45)  // 30 unlabeled steps, and every third a labeled one
        #expect(options.steps(unlabeled: 50) == 10)
        #expect(options.steps(unlabeled: 100_000) == 100)
        options.correctionEvery = 0
        #expect(options.steps(unlabeled: 1000) == 30)
    }

    @Test func theStrongViewChangesTheImageMoreAndErasesASquare() {
        let side = 28
        let pixels = (0..<(side * side)).map { UInt8(($0 / side + $0 % side) * 4) }  // a smooth diagonal ramp
        var weak = [Float](repeating: 0, count: side * side), strong = weak
        var generator = SeededGenerator(seed: 5)
        var weakChange = 0.0, strongChange = 0.0
        for _ in 0..<20 {
            weak.withUnsafeMutableBufferPointer { Augmentation().apply(pixels, side: side, into: $0, using: &generator) }
            strong.withUnsafeMutableBufferPointer { StrongAugmentation().apply(pixels, side: side, into: $0, using: &generator) }
            weakChange += zip(weak, pixels).reduce(0) { $0 + Double(abs($1.0 - Float($1.1) / 255)) }
            strongChange += zip(strong, pixels).reduce(0) { $0 + Double(abs($1.0 - Float($1.1) / 255)) }
            // A 7×7 square of one value: the erased one.
            let erased = (0...(side - 7)).contains { top in (0...(side - 7)).contains { left in
                let first = strong[top * side + left]
                return (top..<(top + 7)).allSatisfy { y in (left..<(left + 7)).allSatisfy { strong[y * side + $0] == first } }
            } }
            #expect(erased)
        }
        #expect(strongChange > 1.3 * weakChange, "strong \(strongChange), weak \(weakChange)")
    }
}
