import Foundation
import TensorEngine

/// A trained image classifier as RadStream ships and serves it: the residual CNN, how its input
/// is prepared, its classes, and the calibration chosen on the validation set.
///
/// Inference only reads the weights (they are detached: no graph is recorded), so one instance
/// may serve many calls; it is `@unchecked Sendable` for that reason alone.
public final class ImageClassifier: @unchecked Sendable {
    public struct Settings: Codable, Sendable, Equatable {
        /// What the model answers, as the classify output and the database name it: "pneumonia".
        public var name: String
        /// Distinguishes one training of the model from another: a date and a hash of the weights.
        public var version: String
        /// Class names in logit order; for a binary model the second is the positive finding.
        public var classes: [String]
        /// The side of the square greyscale input (centre crop, area average), in pixels.
        public var inputSide: Int
        /// Pixels are read as (byte / 255 − mean) / standardDeviation.
        public var pixelMean: Float
        public var pixelStandardDeviation: Float
        /// Logits are divided by this before the softmax (temperature scaling, fitted on `val`).
        public var temperature: Float
        /// Binary models: the positive class is decided when its probability reaches this.
        public var threshold: Float?

        public init(name: String, version: String = "untrained", classes: [String], inputSide: Int,
                    pixelMean: Float = 0.5, pixelStandardDeviation: Float = 0.25, temperature: Float = 1,
                    threshold: Float? = nil) {
            self.name = name
            self.version = version
            self.classes = classes
            self.inputSide = inputSide
            self.pixelMean = pixelMean
            self.pixelStandardDeviation = pixelStandardDeviation
            self.temperature = temperature
            self.threshold = threshold
        }

        public var isBinary: Bool { classes.count == 2 }
    }

    public let settings: Settings
    public let network: ResidualCNN

    public init(network: ResidualCNN, settings: Settings) {
        precondition(network.configuration.classes == settings.classes.count, "classes and logits differ")
        self.network = network.frozen()
        self.settings = settings
    }

    /// The input tensor (batch × 1 × side × side) for greyscale images of the input side.
    public func input(_ images: [[UInt8]]) -> Tensor {
        let side = settings.inputSide, pixels = side * side
        var data = Tensor.uninitialized(images.count * pixels)
        let scale = 1 / (255 * settings.pixelStandardDeviation), shift = settings.pixelMean / settings.pixelStandardDeviation
        for (index, image) in images.enumerated() {
            precondition(image.count == pixels, "a \(side)×\(side) input expected, got \(image.count) pixels")
            for i in 0..<pixels { data[index * pixels + i] = Float(image[i]) * scale - shift }
        }
        return Tensor(shape: [images.count, 1, side, side], data: data)
    }

    /// Calibrated class probabilities, one row per image.
    public func probabilities(_ images: [[UInt8]]) -> [[Float]] {
        guard !images.isEmpty else { return [] }
        return calibrated(network(input(images), training: false))
    }

    /// Calibrated probabilities from logits (batch × classes).
    public func calibrated(_ logits: Tensor) -> [[Float]] {
        let probabilities = (logits * (1 / settings.temperature)).softmax(axis: 1)
        let classes = settings.classes.count
        return (0..<logits.shape[0]).map { Array(probabilities.data[($0 * classes)..<(($0 + 1) * classes)]) }
    }

    public func decision(_ probabilities: [Float]) -> Int { settings.decision(probabilities) }

    public func reported(_ probabilities: [Float]) -> [String: Float] { settings.reported(probabilities) }

    /// Probabilities, the decided class, and a Grad-CAM map for it, per image; with a pooling,
    /// also the features an applicability gate of that pooling reads, from the same pass.
    public func explain(_ images: [[UInt8]], applicabilityPooling pooling: ApplicabilityPooling? = nil) -> [Explanation] {
        guard !images.isEmpty else { return [] }
        let stages = network.stageOutputs(input(images), training: false)
        return explanations(probabilities: calibrated(network.classify(stages.last!)), stages: stages, pooling: pooling,
                            saliencyWeights: saliencyWeights())
    }

    /// Grad-CAM's channel weights for each class (once per class, not per image).
    func saliencyWeights() -> [[Float]] { settings.classes.indices.map { GradCAM.weights(of: network, for: $0) } }

    /// The explanations of a pass, from its probabilities and its stages' maps (the graph's or
    /// the inference plan's): per image the decision, its Grad-CAM map over the last stage and,
    /// with a pooling, the applicability features of every stage (only the last is needed without).
    func explanations(probabilities: [[Float]], stages: [Tensor], pooling: ApplicabilityPooling?,
                      saliencyWeights weights: [[Float]]) -> [Explanation] {
        let pooled = pooling.map { Self.applicabilityFeatures(of: stages, pooling: $0) }
        return probabilities.enumerated().map { index, row in
            let decided = decision(row)
            return Explanation(probabilities: row, decidedClass: decided,
                               saliency: GradCAM.map(features: stages.last!, image: index, weights: weights[decided]),
                               applicabilityFeatures: pooled?[index])
        }
    }

    public struct Explanation: Sendable {
        public let probabilities: [Float]
        public let decidedClass: Int
        /// Grad-CAM over the last stage's grid, scaled to [0, 1].
        public let saliency: SaliencyMap
        /// What an applicability gate reads, when asked for.
        public let applicabilityFeatures: [Float]?
    }
}

extension ImageClassifier.Settings {
    /// The class decided for one row of probabilities: the positive class of a binary model
    /// when it reaches the threshold, otherwise the most probable.
    public func decision(_ probabilities: [Float]) -> Int {
        if isBinary, let threshold { return probabilities[1] >= threshold ? 1 : 0 }
        return probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
    }

    /// One row of probabilities as the command line reports it: a binary model gives its
    /// finding's probability under its name ("pneumonia"), a model of more classes one per class.
    public func reported(_ probabilities: [Float]) -> [String: Float] {
        isBinary ? [name: probabilities[1]] : Dictionary(uniqueKeysWithValues: zip(classes, probabilities))
    }
}
