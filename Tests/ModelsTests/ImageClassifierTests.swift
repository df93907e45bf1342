import Foundation
import Testing
import TensorEngine
@testable import Models

@Suite("Image classifier: checkpoints and Grad-CAM")
struct ImageClassifierTests {
    /// A small network whose weights are set by a seed: these tests check plumbing that holds for
    /// any weights (saving, loading, an identity of Grad-CAM), not what a trained model says.
    static func classifier(classes: [String] = ["normal", "pneumonia"]) -> ImageClassifier {
        let network = ResidualCNN(configuration: .init(channels: [4, 8, 8], classes: classes.count), seed: 5)
        // Running statistics other than (0, 1), so that a checkpoint that lost them would differ.
        for layer in network.runningStatistics.keys {
            let channels = network.runningStatistics[layer]!.mean.count
            network.runningStatistics[layer] = ((0..<channels).map { Float($0) * 0.01 }, (0..<channels).map { 1 + Float($0) * 0.1 })
        }
        return ImageClassifier(network: network, settings: .init(name: "pneumonia", version: "test", classes: classes, inputSide: 16,
                                                                temperature: 0.8, threshold: 0.4))
    }

    static func images(_ count: Int, side: Int = 16, seed: UInt64 = 3) -> [[UInt8]] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in (0..<(side * side)).map { _ in UInt8(generator.next() % 256) } }
    }

    @Test func aSavedClassifierLoadsWithTheSameAnswers() throws {
        let original = Self.classifier()
        let url = FileManager.default.temporaryDirectory.appending(path: "classifier-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try original.save(to: url)
        let loaded = try ImageClassifier(contentsOf: url)
        #expect(loaded.settings == original.settings)
        #expect(loaded.network.configuration == original.network.configuration)
        let inputs = Self.images(5)
        #expect(loaded.probabilities(inputs) == original.probabilities(inputs))
        let names = Set(try Safetensors.read(contentsOf: url).tensors.keys)
        #expect(names.contains("stem.bn.running_mean") && names.contains("fc.weight"))
    }

    @Test func aCheckpointMissingATensorOrOfAnotherKindIsRefused() throws {
        var checkpoint = try Self.classifier().checkpoint()
        checkpoint.tensors["stage2.conv1.weight"] = nil
        #expect(throws: CheckpointError.self) { try ImageClassifier(checkpoint: checkpoint) }
        var other = try Self.classifier().checkpoint()
        other.metadata["format"] = "radstream.summarizer.v1"
        #expect(throws: CheckpointError.self) { try ImageClassifier(checkpoint: other) }
    }

    @Test func probabilitiesAreCalibratedSoftmaxAndDecisionsUseTheThreshold() {
        let classifier = Self.classifier()
        let logits = Tensor(shape: [2, 2], data: [0, 0.8, 1, 0])
        let probabilities = classifier.calibrated(logits)
        // temperature 0.8: softmax([0, 1]) and softmax([1.25, 0])
        #expect(abs(probabilities[0][1] - 1 / (1 + exp(-1))) < 1e-6)
        #expect(abs(probabilities[1][0] - 1 / (1 + exp(-1.25))) < 1e-6)
        #expect(classifier.decision([0.65, 0.35]) == 0 && classifier.decision([0.55, 0.45]) == 1, "threshold 0.4 on the positive class")
        let three = Self.classifier(classes: ["a", "b", "c"])
        #expect(three.decision([0.2, 0.5, 0.3]) == 1)
    }

    /// The closed form used for Grad-CAM equals Grad-CAM computed the long way: the gradient of
    /// the class's centred logit with respect to the last stage's maps, through the engine's
    /// autograd, averaged over space.
    @Test(arguments: [0, 1]) func gradCAMMatchesTheGradientDefinition(classIndex: Int) {
        let classifier = Self.classifier()
        let network = classifier.network
        let input = classifier.input(Self.images(3))
        let computed = network.features(input, training: false)
        let features = Tensor(shape: computed.shape, data: computed.data, requiresGrad: true)
        let logits = network.classify(features)
        let classes = logits.shape[1]
        // Centred logit of classIndex, summed over the batch (images do not interact).
        var selector = [Float](repeating: -1 / Float(classes), count: logits.count)
        for row in 0..<logits.shape[0] { selector[row * classes + classIndex] += 1 }
        (logits * Tensor(shape: logits.shape, data: selector)).sum().backward()
        let gradient = features.grad!
        let (channels, plane) = (features.shape[1], features.shape[2] * features.shape[3])
        for image in 0..<3 {
            var alphas = [Float](repeating: 0, count: channels)
            for c in 0..<channels {
                let base = (image * channels + c) * plane
                alphas[c] = gradient[base..<(base + plane)].reduce(0, +) / Float(plane) * Float(plane)  // × hw, as `weights`
            }
            let longWay = GradCAM.map(features: computed, image: image, weights: alphas)
            let closedForm = GradCAM.map(features: computed, image: image, weights: GradCAM.weights(of: network, for: classIndex))
            #expect(zip(longWay.values, closedForm.values).allSatisfy { abs($0 - $1) < 1e-4 })
            #expect(closedForm.values.allSatisfy { (0...1).contains($0) })
        }
    }

    @Test func reportedProbabilitiesNameTheFindingOrEachClass() {
        #expect(Self.classifier().reported([0.3, 0.7]) == ["pneumonia": 0.7])
        #expect(Self.classifier(classes: ["a", "b", "c"]).reported([0.2, 0.5, 0.3]) == ["a": 0.2, "b": 0.5, "c": 0.3])
    }

    @Test func explanationsAgreeWithProbabilities() {
        let classifier = Self.classifier()
        let inputs = Self.images(4)
        let explanations = classifier.explain(inputs)
        let probabilities = classifier.probabilities(inputs)
        for (explanation, row) in zip(explanations, probabilities) {
            #expect(zip(explanation.probabilities, row).allSatisfy { abs($0 - $1) < 1e-6 })
            #expect(explanation.decidedClass == classifier.decision(row))
            #expect(explanation.saliency.width == 4 && explanation.saliency.height == 4, "16 px input, two stride-2 stages")
        }
    }

    @Test func saliencyResamplingKeepsCornersAndInterpolates() {
        let map = SaliencyMap(width: 2, height: 2, values: [0, 1, 1, 0])
        let same = map.resampled(width: 2, height: 2)
        #expect(same == [0, 1, 1, 0])
        let large = map.resampled(width: 8, height: 8)
        #expect(large[0] == 0 && large[7] == 1 && large[56] == 1 && large[63] == 0)
        #expect(abs(large[3 * 8 + 3] - 0.5) < 0.2, "the centre is between")
    }
}
