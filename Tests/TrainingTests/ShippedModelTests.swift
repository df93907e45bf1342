import Foundation
import Models
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
    }
}
