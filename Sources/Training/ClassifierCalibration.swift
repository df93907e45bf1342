import Foundation
import Models
import TensorEngine

/// Turns a trained network into a served classifier: the temperature fitted on the validation
/// set first, then (binary) the threshold on the calibrated probability that maximises balanced
/// accuracy (so that it holds when the prevalence changes), then the version from the weights.
/// `train classifier` and every self-training round calibrate the same way, so that a student
/// and its teacher are compared as they would be served. Where cross-validation has already
/// chosen the temperature and threshold on out-of-fold predictions, they are given instead and
/// the validation set is only measured.
public enum ClassifierCalibration {
    public enum Rule: Sendable {
        case fitOnValidation
        case given(temperature: Float, threshold: Float?)
    }

    public struct Outcome {
        public let classifier: ImageClassifier
        /// The calibrated classifier's figures on the validation set (with bootstrap intervals when asked).
        public let validation: ClassifierEvaluation
        /// The same network at temperature 1 and threshold 0.5, for comparison.
        public let uncalibrated: ClassifierEvaluation
    }

    public static func calibrate(_ network: ResidualCNN, settings base: ImageClassifier.Settings, by rule: Rule = .fitOnValidation,
                                 on validation: LabeledImageSet, intervals: Bool) throws -> Outcome {
        var settings = base
        settings.temperature = 1
        settings.threshold = settings.isBinary ? 0.5 : nil
        let raw = ImageClassifier(network: network, settings: settings)
        let logits = ClassifierEvaluation.logits(of: raw, on: validation)
        let labels = validation.images.map(\.label)
        let uncalibrated = ClassifierEvaluation(classifier: raw, logits: logits, labels: labels, intervals: intervals)
        switch rule {
        case .fitOnValidation:
            (settings.temperature, settings.threshold) = fit(logits: logits, labels: labels, settings: settings)
        case .given(let temperature, let threshold):
            (settings.temperature, settings.threshold) = (temperature, settings.isBinary ? threshold : nil)
        }
        settings.version = try ModelVersion.of(network.checkpointTensors())
        let classifier = ImageClassifier(network: network, settings: settings)
        return Outcome(classifier: classifier,
                       validation: ClassifierEvaluation(classifier: classifier, logits: logits, labels: labels, intervals: intervals),
                       uncalibrated: uncalibrated)
    }

    /// The temperature that best explains `labels` from `logits`, and (binary) the threshold of
    /// best balanced accuracy on the probabilities at that temperature.
    public static func fit(logits: [[Float]], labels: [Int], settings base: ImageClassifier.Settings) -> (Float, Float?) {
        var settings = base
        settings.temperature = ClassificationMetrics.fitTemperature(logits: logits, labels: labels)
        guard settings.isBinary else { return (settings.temperature, nil) }
        let scores = probabilities(logits: logits, temperature: settings.temperature).map { $0[1] }
        return (settings.temperature, ClassificationMetrics.bestThreshold(scores: scores, positives: labels.map { $0 == 1 }, balanced: true))
    }

    /// softmax(logits / temperature), row by row.
    public static func probabilities(logits: [[Float]], temperature: Float) -> [[Float]] {
        logits.map { row in
            let scaled = row.map { $0 / temperature }, peak = scaled.max() ?? 0
            let exponentials = scaled.map { Foundation.exp($0 - peak) }, sum = exponentials.reduce(0, +)
            return exponentials.map { $0 / sum }
        }
    }
}
