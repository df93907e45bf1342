import Foundation
import Models
import Reports
import Summarization
import TestSupport
import Testing
import Training
@testable import Captioning

/// The shipped captioner still gives the figures its manifest records.
@Suite("Shipped captioner")
struct ShippedCaptionerTests {
    static let folder = TestData.packageRoot.appending(path: "models/captioner")

    @Test func reproducesItsManifest() throws {
        let manifest = try ManifestFile.read(CaptionerManifest.self, from: Self.folder)
        let captioner = try Captioner(contentsOf: Self.folder)
        #expect(captioner.settings.version == manifest.version && captioner.settings.distilled)
        let validation = try TrainingData.load(TestData.root.appending(path: "pneumoniamnist").path, side: captioner.trunk.settings.inputSide).validation
        let labels = validation.images.map(\.label)
        let captions = captioner.caption(validation.images.map(\.pixels), decoding: .greedy)
        #expect(ClinicalEfficacy(captions: captions, labels: labels) == manifest.clinicalEfficacy)
        #expect(ClassifierEvaluation(classifier: captioner.trunk, set: validation, intervals: false).accuracy == manifest.classifierAccuracy)
        #expect(manifest.commit.count >= 7 && !manifest.command.isEmpty && manifest.pairing.contains("not the same patients"))
    }
}
