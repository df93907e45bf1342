import Foundation
import Models
import TensorEngine

/// Trains an applicability gate's population check: a small residual CNN of its own, the
/// model's training films (class 0) against the training films of a population it was not made
/// for (class 1) and the model's own training films turned the wrong way (class 2: inverted,
/// rotated a quarter turn either way or half a turn — what a wrong orientation tag or a
/// MONOCHROME1 film read as MONOCHROME2 gives), each class drawn equally often whatever their
/// numbers. A film is refused when its probability of the own class falls below a floor: 0.5, or
/// lower where the model's own training films, predicted out of fold (`folds` checks, each
/// trained without one fold of them), would lose more than `refusedOwnShare` of themselves to
/// it — the rule the distance check follows, its floor set by the training population itself.
/// Nothing is chosen on the held-out films that measure it.
public enum PopulationCheckFitting {
    public static func options(seed: UInt64 = 1) -> ClassifierTrainingOptions {
        var options = ClassifierTrainingOptions()
        options.epochs = 20
        options.channels = [8, 16, 32]  // about a quarter of a classifier's cost per film
        options.balanceClasses = true
        options.seed = seed
        return options
    }

    /// `heldOwn` and `heldOthers` are only watched while training (progress).
    public static func train(own: [[UInt8]], others: [[UInt8]], heldOwn: [[UInt8]], heldOthers: [[UInt8]], side: Int,
                             refuses: String, options: ClassifierTrainingOptions = options(), folds: Int = 5,
                             refusedOwnShare: Float = 0.01,
                             progress: (_ stage: String, TrainingProgress) -> Void = { _, _ in }) throws -> ApplicabilityGate.PopulationCheck {
        var generator = SeededGenerator(seed: options.seed &+ 7)
        func set(_ own: [[UInt8]], _ others: [[UInt8]], _ prefix: String) -> LabeledImageSet {
            func members(_ films: [[UInt8]], label: Int, _ kind: String) -> [LabeledImage] {
                films.enumerated().map { LabeledImage(file: "\(prefix)\(kind)-\($0.offset)", pixels: $0.element, label: label, group: "\(prefix)\(kind)-\($0.offset)") }
            }
            let turned = own.map { misoriented($0, side: side, kind: Int(generator.next() % 4)) }
            return LabeledImageSet(classes: classes, side: side,
                                   images: members(own, label: 0, "own") + members(others, label: 1, "other") + members(turned, label: 2, "turned"))
        }
        let trainer = ClassifierTrainer(name: "population", options: options)
        let watched = set(heldOwn, heldOthers, "held-")
        var ownOutOfFold: [Float] = []
        for fold in 0..<(folds >= 2 ? folds : 0) {
            let inside = own.indices.filter { $0 % folds != fold }.map { own[$0] }
            let outside = own.indices.filter { $0 % folds == fold }.map { own[$0] }
            let partial = try trainer.train(training: set(inside, others, ""), validation: watched,
                                            calibration: .given(temperature: 1, threshold: nil)) { progress("fold \(fold + 1)/\(folds)", $0) }
            ownOutOfFold += partial.classifier.probabilities(outside).map { $0[0] }
        }
        let outcome = try trainer.train(training: set(own, others, ""), validation: watched,
                                        calibration: .given(temperature: 1, threshold: nil)) { progress("final", $0) }
        ownOutOfFold.sort()
        let floor = ownOutOfFold.isEmpty ? 0.5
            : min(0.5, ownOutOfFold[min(Int(refusedOwnShare * Float(ownOutOfFold.count)), ownOutOfFold.count - 1)])
        return ApplicabilityGate.PopulationCheck(refuses: refuses, classifier: outcome.classifier, minimumOwnProbability: floor)
    }

    public static let classes = ["own_population", "refused_population", "misoriented"]

    /// A film inverted (0), a quarter turn clockwise (1) or anticlockwise (2), or half a turn (3).
    static func misoriented(_ pixels: [UInt8], side: Int, kind: Int) -> [UInt8] {
        switch kind {
        case 0: return pixels.map { 255 - $0 }
        case 1: return (0..<(side * side)).map { pixels[(side - 1 - $0 % side) * side + $0 / side] }
        case 2: return (0..<(side * side)).map { pixels[($0 % side) * side + side - 1 - $0 / side] }
        default: return pixels.reversed()
        }
    }
}
