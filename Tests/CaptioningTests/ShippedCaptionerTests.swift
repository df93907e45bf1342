import Foundation
import Models
import Reports
@testable import Summarization
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

    @Test func readsTheFilmsThroughTheTrunksPlanAsThroughTheGraph() throws {
        let captioner = try Captioner(contentsOf: Self.folder)
        let films = try TrainingData.load(TestData.root.appending(path: "pneumoniamnist").path, side: captioner.trunk.settings.inputSide)
            .validation.images.prefix(160).map(\.pixels)
        let planned = captioner.sliceFeatures(Array(films.prefix(Captioner.slice))), graph = captioner.sliceFeatures(Array(films.prefix(Captioner.slice)), throughThePlan: false)
        #expect(planned.shape == graph.shape)
        #expect(zip(planned.data, graph.data).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        #expect(captioner.caption(films, decoding: .greedy) == captioner.caption(films, decoding: .greedy, throughThePlan: false, drafting: false))
    }

    /// Inference's memory of the films is the graph's, bit for bit, for a slice and for one film.
    @Test func theInferenceMemoryIsTheGraphsBitForBit() throws {
        let captioner = try Captioner(contentsOf: Self.folder)
        let films = try TrainingData.load(TestData.root.appending(path: "pneumoniamnist").path, side: captioner.trunk.settings.inputSide)
            .validation.images.prefix(Captioner.slice).map(\.pixels)
        let features = captioner.sliceFeatures(Array(films))
        for maps in [features, features.selectingImage(3)] {
            let (inference, graph) = (captioner.inferenceMemory(features: maps), captioner.memory(features: maps))
            #expect(inference.batch == graph.batch && inference.length == graph.length)
            #expect(inference.states.shape == graph.states.shape && inference.states.data == graph.states.data)
        }
    }

    @Test func draftsFromItsEarlierImpressionsChangeNoCaption() throws {
        let captioner = try Captioner(contentsOf: Self.folder)
        let films = try TrainingData.load(TestData.root.appending(path: "pneumoniamnist").path, side: captioner.trunk.settings.inputSide)
            .validation.images.map(\.pixels)
        let plain = captioner.caption(films, decoding: .greedy, throughThePlan: true, drafting: false)
        #expect(captioner.drafts.count == 0)
        // The first call fills the book as it goes; the second drafts from the start.
        for _ in 0..<2 { #expect(captioner.caption(films, decoding: .greedy) == plain) }
        #expect(captioner.drafts.count > 0)
    }

    /// Greedy captions with the vocabulary's argmax screened are those of the full projection,
    /// once the screen has its basis and decides rows.
    @Test func theScreenedArgmaxWritesTheFullProjectionsCaptions() throws {
        let captioner = try Captioner(contentsOf: Self.folder)
        let films = try TrainingData.load(TestData.root.appending(path: "pneumoniamnist").path, side: captioner.trunk.settings.inputSide)
            .validation.images.map(\.pixels)
        let full = captioner.caption(films, decoding: .greedy, throughThePlan: true, drafting: true, screening: false)
        let screen = captioner.decoder.inferenceWeights.mostLikelyScreen
        #expect(screen.basis == nil, "the full projection offers the screen nothing")
        for _ in 0..<2 { #expect(captioner.caption(films, decoding: .greedy) == full) }
        #expect(screen.basis != nil && screen.screenedRows.load(ordering: .relaxed) > 10 * screen.undecidedRows.load(ordering: .relaxed))
    }
}
