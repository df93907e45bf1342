import Foundation
@testable import Models
import TestSupport
import Testing
@testable import Training

@Suite("Applicability: which films a classifier is fit to read")
struct ApplicabilityTests {
    @Test func theCholeskyInverseInvertsASymmetricPositiveDefiniteMatrix() {
        // A = BBᵀ + I for a fixed B: symmetric, positive definite.
        let n = 6
        let b = (0..<(n * n)).map { Double(($0 * 37) % 11) / 5 - 1 }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { a[i * n + j] = (0..<n).reduce(i == j ? 1 : 0) { $0 + b[i * n + $1] * b[j * n + $1] } } }
        let inverse = ApplicabilityFitting.invertSymmetricPositiveDefinite(a, size: n)
        for i in 0..<n {
            for j in 0..<n {
                let product = (0..<n).reduce(0.0) { $0 + a[i * n + $1] * inverse[$1 * n + j] }
                #expect(abs(product - (i == j ? 1 : 0)) < 1e-9, "(\(i), \(j)): \(product)")
            }
        }
    }

    /// The distance is to the nearest class mean under the precision; the score is the share of
    /// reference distances at or beyond it.
    @Test func distancesAndScoresAreWhatTheyClaim() throws {
        let gate = ApplicabilityGate(model: "m", modelVersion: "v", pooling: .global, minimumScore: 0.25, minimumPixelSpread: 4,
                                     classMeans: [[0, 0], [10, 0]], precision: [1, 0, 0, 4], referenceDistances: [4, 1, 3, 2])
        #expect(gate.distance([1, 1]) == 5)  // 1·1² + 4·1² from the first mean
        #expect(gate.distance([9, 0.5]) == 2)  // from the second
        #expect(gate.score(distance: 0.5) == 1 && gate.score(distance: 2.5) == 0.5 && gate.score(distance: 10) == 0)
        let film = (0..<784).map { UInt8($0 % 200) }
        #expect(gate.assess(pixels: film, features: [0, 0]) == .init(score: 1, applicable: true))
        #expect(gate.assess(pixels: film, features: [3, 0]).applicable == false, "beyond every reference distance")
        #expect(gate.assess(pixels: [UInt8](repeating: 90, count: 784), features: [0, 0]) == .init(score: 0, applicable: false),
                "no contrast: not a film, whatever its features")

        let file = FileManager.default.temporaryDirectory.appending(path: "gate-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try gate.save(to: file)
        let loaded = try ApplicabilityGate(contentsOf: file)
        #expect(loaded.model == "m" && loaded.modelVersion == "v" && loaded.pooling == .global && loaded.minimumScore == 0.25)
        #expect(loaded.distance([1, 1]) == 5 && loaded.score(distance: 2.5) == 0.5)
    }

    /// Fitted on part of the shipped pneumonia model's validation films: the rest pass, and
    /// noise, blanks and inverted films do not.
    @Test func aGateFittedOnFilmsRefusesNoiseBlanksAndInvertedFilms() throws {
        let folder = ShippedModelTests.models.appending(path: "pneumonia")
        let classifier = try ImageClassifier(contentsOf: folder.appending(path: ModelManifest.weightsFileName))
        let films = try TrainingData.load(TestData.root.appending(path: "pneumoniamnist").path, side: 28).validation
        let fitted = LabeledImageSet(classes: films.classes, side: 28, images: Array(films.images.prefix(400)))
        let held = films.images.dropFirst(400).map(\.pixels)
        var options = ApplicabilityFitting.Options()
        options.pooling = .global  // 400 films afford the global summary (`ApplicabilityPooling.affordable`)
        let (gate, foldShares) = ApplicabilityFitting.fit(classifier, training: fitted, options: options)
        #expect(foldShares.count == 5 && foldShares.allSatisfy { $0 > 0.9 })
        func share(_ images: [[UInt8]]) -> Double {
            let features = ApplicabilityFitting.pooledFeatures(of: classifier, images, pooling: gate.pooling)
            return Double(zip(images, features).filter { gate.assess(pixels: $0, features: $1).applicable }.count) / Double(images.count)
        }
        var generator = SystemRandomNumberGenerator()
        #expect(share(held) > 0.9, "held-out films of the population")
        #expect(share((0..<50).map { _ in (0..<784).map { _ in UInt8.random(in: 0...255, using: &generator) } }) == 0, "noise")
        #expect(share((0..<10).map { [UInt8](repeating: UInt8($0 * 25), count: 784) }) == 0, "blank")
        #expect(share(held.map { $0.map { 255 - $0 } }) < 0.5, "inverted films")
    }

    /// The shipped gates give the validation share their applicability.json records, for the
    /// classifier version they were fitted for.
    @Test(arguments: ["pneumonia", "covid"]) func theShippedGateReproducesItsRecord(model: String) throws {
        let folder = ShippedModelTests.models.appending(path: model)
        let classifier = try ImageClassifier(contentsOf: folder.appending(path: ModelManifest.weightsFileName))
        let gate = try ApplicabilityGate(contentsOf: folder.appending(path: ApplicabilityGate.fileName))
        #expect(gate.modelVersion == classifier.settings.version)
        let record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appending(path: "applicability.json"))) as? [String: Any])
        let manifest = try ModelManifest.read(from: folder)
        let validation = try TrainingData.load(TestData.packageRoot.appending(path: manifest.data.source).path, side: classifier.settings.inputSide,
                                               validationShare: manifest.data.validationShare, splitSeed: manifest.data.splitSeed).validation
        let share = ApplicabilityFitting.applicableShare(of: validation.images.map(\.pixels), classifier: classifier, gate: gate)
        #expect(abs(share - (record["validationShareApplicable"] as? Double ?? -1)) < 1e-9)
        #expect(share >= 0.97, "the aim: at least 97% of the model's own validation films applicable")
    }

    /// A model folder's gate goes with its classifier only while it was fitted for that version;
    /// a gate left over from an earlier version is not used, and the reader hears why. Its two
    /// checkpoints read back to the same gate (as the registry stores them).
    @Test func aGateLeftFromAnotherVersionIsNotUsed() throws {
        let shipped = ShippedModelTests.models.appending(path: "pneumonia")
        let gated = try #require(try ModelStore.gatedClassifiers(at: shipped).first)
        let gate = try #require(gated.gate)
        let (checkpoint, population) = try gate.checkpoints()
        let read = try ApplicabilityGate(checkpoint: checkpoint, populationCheck: population, source: "test")
        #expect(try read.checkpoints().gate.serialized() == checkpoint.serialized() && read.populationCheck?.refuses == gate.populationCheck?.refuses)
        #expect(throws: CheckpointError.self) { try ApplicabilityGate(checkpoint: checkpoint, populationCheck: nil, source: "test") }

        let folder = FileManager.default.temporaryDirectory.appending(path: "stale-gate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var settings = gated.classifier.settings
        settings.version = "retrained"
        try ImageClassifier(network: gated.classifier.network, settings: settings).save(to: folder.appending(path: ModelStore.weightsFileName))
        try gate.save(to: folder.appending(path: ApplicabilityGate.fileName))
        var heard: [String] = []
        let loaded = try ModelStore.gatedClassifiers(at: folder, stale: { heard.append($0) })
        #expect(loaded.map(\.version) == ["retrained"] && loaded.first?.gate == nil)
        #expect(heard.count == 1 && heard[0].contains(gate.modelVersion) && heard[0].contains("not used"), "\(heard)")
    }

    /// Each shipped gate refuses the other population's held-out films: the paediatric model the
    /// COVID-19 collection's adult films of validation patients, the COVID-19 model PneumoniaMNIST's
    /// validation children (neither seen by the population checks, trained on the training splits).
    @Test(arguments: [("pneumonia", "covid"), ("covid", "pneumoniamnist")])
    func theShippedGateRefusesTheOtherPopulation(model: String, other: String) throws {
        let folder = ShippedModelTests.models.appending(path: model)
        let classifier = try ImageClassifier(contentsOf: folder.appending(path: ModelManifest.weightsFileName))
        let gate = try ApplicabilityGate(contentsOf: folder.appending(path: ApplicabilityGate.fileName))
        guard let check = gate.populationCheck else {
            Issue.record("\(model)'s shipped gate has no population check")
            return
        }
        #expect(check.refuses.contains(other))
        let films = try TrainingData.load(TestData.root.appending(path: other).path, side: classifier.settings.inputSide)
            .validation.images.map(\.pixels)
        let features = ApplicabilityFitting.pooledFeatures(of: classifier, films, pooling: gate.pooling)
        let refused = Double(gate.assess(pixels: films, features: features).filter { !$0.applicable }.count) / Double(films.count)
        #expect(refused >= 0.97, "\(model) refuses \(refused) of \(other)'s held-out films")
    }

    /// The population checks run through the classifier's inference plan: on real films of both
    /// collections (and more than one plan batch of them) the same probabilities as the graph's
    /// to 1e-5, and so the same refusals.
    @Test(arguments: ["pneumonia", "covid"])
    func theShippedPopulationCheckGivesThroughThePlanWhatTheGraphGives(model: String) throws {
        let folder = ShippedModelTests.models.appending(path: model)
        let gate = try ApplicabilityGate(contentsOf: folder.appending(path: ApplicabilityGate.fileName))
        let check = try #require(gate.populationCheck)
        #expect(check.runsThroughThePlan)
        let side = check.classifier.settings.inputSide
        let films = try ["pneumoniamnist", "covid"].flatMap { collection in
            try TrainingData.load(TestData.root.appending(path: collection).path, side: side).validation.images.prefix(50).map(\.pixels)
        }
        #expect(films.count == 100)
        let planned = check.ownProbabilities(films), graph = check.ownProbabilities(films, throughThePlan: false)
        #expect(zip(planned, graph).allSatisfy { abs($0 - $1) <= 1e-5 }, "largest difference \(zip(planned, graph).map { abs($0 - $1) }.max()!)")
        #expect(check.refuses(films) == graph.map { $0 < check.minimumOwnProbability })
    }
}
