import Foundation
import TensorEngine
import Training

/// How counterfactuals are made: what `radstream counterfactual` exposes. The defaults were
/// chosen on 128 training films (`evaluate-counterfactuals --split train`, docs/models/diffusion.md):
/// the smallest mean change among the settings that flip at least 90% of the films under the
/// shipped CNN, which the counterfactuals are not made against.
public struct CounterfactualOptions: Codable, Sendable, Equatable {
    /// The step the film is brought to: later changes more, and keeps less of the patient.
    public var startStep = 150
    /// DDIM steps from there to a clean film.
    public var steps = 25
    /// The scale of the head's gradient added to the predicted noise.
    public var guidance: Float = 8
    /// Bring the film to `startStep` by DDIM inversion (unguided, it then comes back nearly as it
    /// was: what changes is what the guidance changed) rather than by seeded noise.
    public var inversion = true
    /// σ, in pixels, of the Gaussian that smooths the head's gradient (0: none).
    public var gradientBlur: Float = 0
    public var seed: UInt64 = 1

    public init(startStep: Int = 150, steps: Int = 25, guidance: Float = 8, inversion: Bool = true, gradientBlur: Float = 0,
                seed: UInt64 = 1) {
        (self.startStep, self.steps, self.guidance, self.inversion, self.seed) = (startStep, steps, guidance, inversion, seed)
        self.gradientBlur = gradientBlur
    }
}

/// A film's counterfactual toward the other class, and what it took.
public struct Counterfactual: Sendable {
    /// The class (index) the film was called — by the head, or by the classifier whose call is
    /// explained — and the one its counterfactual is asked to be.
    public let from: Int
    public let to: Int
    /// The head's calibrated probability of the model's finding (its second class, as the
    /// classifiers report it) for the film and for its counterfactual.
    public let probabilityBefore: Float
    public let probabilityAfter: Float
    /// Whether the head now decides the class asked for.
    public let flipped: Bool
    /// Mean absolute change of intensity (0–1), and the share of pixels changed by more than 0.1.
    public let l1: Double
    public let changedFraction: Double
    /// The counterfactual film (side × side grey).
    public let pixels: [UInt8]
}

/// Counterfactual explanations by the joint model: each film noised to `startStep` and denoised
/// with the head's guidance toward the class it does not decide (for a binary model, the other
/// one); what changed is what the model needed to see otherwise.
public struct CounterfactualExplainer {
    public let model: JointDiffusionModel
    public var options: CounterfactualOptions
    let sampler: DiffusionSampler

    public init(model: JointDiffusionModel, options: CounterfactualOptions = CounterfactualOptions()) throws {
        guard options.startStep >= 1, options.startStep < model.schedule.steps, options.steps >= 1, options.guidance >= 0,
              options.gradientBlur >= 0 else {
            throw DiffusionError("the start step must be in 1..<\(model.schedule.steps), the steps at least 1 and the guidance not negative")
        }
        self.model = model
        self.options = options
        sampler = DiffusionSampler(model: model)
    }

    /// The counterfactual of every film, in slices of 64, toward the most probable class other
    /// than the one it was called: `calls` (one class per film, as another classifier called it),
    /// or else the head's own decision.
    public func explain(_ films: [[UInt8]], calls: [Int]? = nil) -> [Counterfactual] {
        explain(films, calls: calls, unless: { false })!
    }

    /// The same, unless `stop` says so before it is done (checked at every sampling step): then
    /// nil, so that a daemon stopping need not wait for a whole batch.
    public func explain(_ films: [[UInt8]], calls: [Int]? = nil, unless stop: () -> Bool) -> [Counterfactual]? {
        precondition(calls.map { $0.count == films.count } ?? true, "one call per film")
        var made: [Counterfactual] = []
        for start in stride(from: 0, to: films.count, by: 64) {
            let end = min(start + 64, films.count)
            made += explainSlice(Array(films[start..<end]), calls: calls.map { Array($0[start..<end]) }, seed: options.seed &+ UInt64(start),
                                 stop: stop)
            if stop() { return nil }
        }
        return made
    }

    private func explainSlice(_ films: [[UInt8]], calls: [Int]?, seed: UInt64, stop: () -> Bool) -> [Counterfactual] {
        let settings = model.settings
        let before = probabilities(films)
        let from = calls ?? before.map(decision)
        // Toward the most probable other class (for a binary model, the other one).
        let to = zip(before, from).map { probabilities, decided in
            probabilities.indices.filter { $0 != decided }.max { probabilities[$0] < probabilities[$1] }!
        }
        let made = sampler.counterfactuals(films, targets: to, startStep: options.startStep, steps: options.steps,
                                           guidance: options.guidance, seed: seed, inversion: options.inversion,
                                           gradientBlur: options.gradientBlur, stop: stop)
        let after = probabilities(made)
        let finding = settings.classes.count == 2 ? 1 : 0
        return films.indices.map { index in
            let changes = zip(films[index], made[index]).map { abs(Double($0) - Double($1)) / 255 }
            return Counterfactual(from: from[index], to: to[index], probabilityBefore: before[index][finding],
                                  probabilityAfter: after[index][finding], flipped: decision(after[index]) == to[index],
                                  l1: changes.reduce(0, +) / Double(max(changes.count, 1)),
                                  changedFraction: Double(changes.filter { $0 > 0.1 }.count) / Double(max(changes.count, 1)),
                                  pixels: made[index])
        }
    }

    /// The head's calibrated probabilities.
    public func probabilities(_ films: [[UInt8]]) -> [[Float]] {
        ClassifierCalibration.probabilities(logits: model.logits(films), temperature: model.settings.temperature)
    }

    func decision(_ probabilities: [Float]) -> Int { model.settings.decision(probabilities) }

    /// An RGB picture of what changed: the original film in grey, red where the counterfactual is
    /// brighter, blue where darker, the colour's strength the size of the change (full at 0.25).
    public static func differenceMap(original: [UInt8], counterfactual: [UInt8]) -> [UInt8] {
        zip(original, counterfactual).flatMap { before, after -> [UInt8] in
            let change = (Double(after) - Double(before)) / 255
            let strength = min(1, abs(change) * 4)
            let grey = Double(before) * (1 - strength)
            let colour = 255 * strength
            return change >= 0 ? [UInt8(grey + colour), UInt8(grey), UInt8(grey)] : [UInt8(grey), UInt8(grey), UInt8(grey + colour)]
        }
    }
}
