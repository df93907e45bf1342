import Foundation
import Models
import TensorEngine
import TestSupport
import Testing
@testable import Training

/// Each shipped model still gives the validation figures its manifest records: the weights,
/// the preprocessing and the metrics have not drifted apart.
@Suite("Shipped models")
struct ShippedModelTests {
    static let models = TestData.packageRoot.appending(path: "models")

    @Test(arguments: ["pneumonia", "covid"]) func reproducesItsManifest(model: String) throws {
        let folder = Self.models.appending(path: model)
        let manifest = try ModelManifest.read(from: folder)
        let classifier = try ImageClassifier(contentsOf: folder.appending(path: manifest.weights))
        #expect(classifier.settings.version == manifest.version)
        #expect(classifier.settings.temperature == manifest.temperature && classifier.settings.threshold == manifest.threshold)
        // The manifest names the data as the command was given, relative to the repository root.
        let validation = try TrainingData.load(TestData.packageRoot.appending(path: manifest.data.source).path,
                                               side: classifier.settings.inputSide, validationShare: manifest.data.validationShare,
                                               splitSeed: manifest.data.splitSeed).validation
        #expect(validation.count == manifest.data.validationImages)
        let measured = ClassifierEvaluation(classifier: classifier, set: validation, intervals: false)
        #expect(abs(measured.auc - manifest.validation.auc) < 1e-6, "AUC \(measured.auc) vs \(manifest.validation.auc)")
        #expect(measured.accuracy == manifest.validation.accuracy)
        #expect(abs(measured.negativeLogLikelihood - manifest.validation.negativeLogLikelihood) < 1e-5)
        #expect(manifest.commit.count >= 7 && !manifest.command.isEmpty && manifest.trainingSeconds > 0)
        // The folds, not `val`, chose the calibration it is served with.
        let folds = try #require(manifest.crossValidation, "\(model) records no cross-validation")
        #expect(folds.perFold.count == folds.folds && folds.folds >= 5)
        #expect(folds.temperature == classifier.settings.temperature && folds.threshold == classifier.settings.threshold)
        #expect(!manifest.commit.hasSuffix("-dirty"))
        // And the manifest says what chose what: a recipe compared elsewhere, and `val` only measured.
        let choices = try #require(manifest.choices)
        #expect(choices["recipe"]?.contains("cross-validation") == true && choices["validation"]?.hasPrefix("measured only") == true)
        #expect(choices["temperature"]?.contains("folds") == true && (choices["threshold"] != nil) == classifier.settings.isBinary)
    }

    /// The pneumonia model's decision holds when prevalence changes: its validation films
    /// resampled (with replacement, seeded) to 40% and to 80% pneumonia, where the training set
    /// has 74%, keep their accuracy — at least the aim of 0.95, and within 0.03 of each other. A
    /// threshold chosen for the most accurate calls at one prevalence fails this at another.
    @Test func thePneumoniaDecisionHoldsWhenPrevalenceChanges() throws {
        let folder = Self.models.appending(path: "pneumonia")
        let classifier = try ImageClassifier(contentsOf: folder.appending(path: ModelManifest.weightsFileName))
        let validation = try TrainingData.load(TestData.root.appending(path: "pneumoniamnist").path, side: 28).validation
        let correct = zip(classifier.probabilities(validation.images.map(\.pixels)), validation.images)
            .map { classifier.decision($0.0) == $0.1.label }
        let positives = validation.images.indices.filter { validation.images[$0].label == 1 }
        let negatives = validation.images.indices.filter { validation.images[$0].label == 0 }
        var generator = SeededGenerator(seed: 11)
        func accuracy(atPrevalence prevalence: Double, size: Int = 500, resamples: Int = 200) -> Double {
            let positiveCount = Int((prevalence * Double(size)).rounded())
            var total = 0.0
            for _ in 0..<resamples {
                let sample = (0..<positiveCount).map { _ in positives[Int(generator.next() % UInt64(positives.count))] }
                    + (positiveCount..<size).map { _ in negatives[Int(generator.next() % UInt64(negatives.count))] }
                total += Double(sample.filter { correct[$0] }.count) / Double(size)
            }
            return total / Double(resamples)
        }
        let (low, high) = (accuracy(atPrevalence: 0.4), accuracy(atPrevalence: 0.8))
        #expect(low >= 0.95 && high >= 0.95, "accuracy \(low) at 40%, \(high) at 80%")
        #expect(abs(low - high) <= 0.03, "accuracy \(low) at 40%, \(high) at 80%")
    }
}
