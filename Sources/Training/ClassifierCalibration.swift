import Models
import TensorEngine

/// Turns a trained network into a served classifier: the temperature fitted on the validation
/// set first, then (binary) the threshold on the calibrated probability, then the version from
/// the weights. `train classifier` and every self-training round calibrate the same way, so
/// that a student and its teacher are compared as they would be served.
public enum ClassifierCalibration {
    public struct Outcome {
        public let classifier: ImageClassifier
        /// The calibrated classifier's figures on the validation set (with bootstrap intervals when asked).
        public let validation: ClassifierEvaluation
        /// The same network at temperature 1 and threshold 0.5, for comparison.
        public let uncalibrated: ClassifierEvaluation
    }

    public static func calibrate(_ network: ResidualCNN, settings base: ImageClassifier.Settings, on validation: LabeledImageSet,
                                 intervals: Bool) throws -> Outcome {
        var settings = base
        settings.temperature = 1
        settings.threshold = settings.isBinary ? 0.5 : nil
        let raw = ImageClassifier(network: network, settings: settings)
        let logits = ClassifierEvaluation.logits(of: raw, on: validation)
        let labels = validation.images.map(\.label)
        let uncalibrated = ClassifierEvaluation(classifier: raw, logits: logits, labels: labels, intervals: intervals)
        settings.temperature = ClassificationMetrics.fitTemperature(logits: logits, labels: labels)
        if settings.isBinary {
            let scores = ImageClassifier(network: network, settings: settings).calibrated(
                Tensor(shape: [logits.count, 2], data: logits.flatMap { $0 })).map { $0[1] }
            settings.threshold = ClassificationMetrics.bestThreshold(scores: scores, positives: labels.map { $0 == 1 })
        }
        settings.version = try ModelVersion.of(network.checkpointTensors())
        let classifier = ImageClassifier(network: network, settings: settings)
        return Outcome(classifier: classifier,
                       validation: ClassifierEvaluation(classifier: classifier, logits: logits, labels: labels, intervals: intervals),
                       uncalibrated: uncalibrated)
    }
}
