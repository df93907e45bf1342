import Foundation
import Models
import TensorEngine

/// Trains an applicability gate's population check: a small residual CNN of its own, the
/// model's training films (class 0) against the training films of a population it was not made
/// for (class 1), each side drawn equally often whatever their numbers. It is served at
/// temperature 1 and threshold 0.5 — nothing is chosen on the held-out films that measure it.
public enum PopulationCheckFitting {
    public static func options(seed: UInt64 = 1) -> ClassifierTrainingOptions {
        var options = ClassifierTrainingOptions()
        options.epochs = 8
        options.channels = [8, 16, 32]  // about a quarter of a classifier's cost per film
        options.balanceClasses = true
        options.seed = seed
        return options
    }

    /// `heldOwn` and `heldOthers` are only watched while training (progress).
    public static func train(own: [[UInt8]], others: [[UInt8]], heldOwn: [[UInt8]], heldOthers: [[UInt8]], side: Int,
                             refuses: String, options: ClassifierTrainingOptions = options(),
                             progress: (TrainingProgress) -> Void = { _ in }) throws -> ApplicabilityGate.PopulationCheck {
        func set(_ own: [[UInt8]], _ others: [[UInt8]], _ prefix: String) -> LabeledImageSet {
            let images = own.enumerated().map { LabeledImage(file: "\(prefix)own-\($0.offset)", pixels: $0.element, label: 0, group: "\(prefix)own-\($0.offset)") }
                + others.enumerated().map { LabeledImage(file: "\(prefix)other-\($0.offset)", pixels: $0.element, label: 1, group: "\(prefix)other-\($0.offset)") }
            return LabeledImageSet(classes: ["own_population", "refused_population"], side: side, images: images)
        }
        let outcome = try ClassifierTrainer(name: "population", options: options)
            .train(training: set(own, others, ""), validation: set(heldOwn, heldOthers, "held-"),
                   calibration: .given(temperature: 1, threshold: 0.5), progress: progress)
        return ApplicabilityGate.PopulationCheck(refuses: refuses, classifier: outcome.classifier)
    }
}
