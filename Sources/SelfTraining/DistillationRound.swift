import Foundation
import Models
import TensorEngine
import Training

/// Where a round stands, every few steps.
public struct RoundProgress: Sendable {
    public let step: Int
    public let steps: Int
    /// Mean loss since the last report: against the teacher's soft predictions, and in the correction.
    public let distillationLoss: Double
    public let correctionLoss: Double
    public let elapsedSeconds: Double
    public var remainingSeconds: Double { elapsedSeconds / Double(max(step, 1)) * Double(steps - step) }
}

/// What a round made: the candidate (the teacher at the end of the round, calibrated on the
/// validation set, with an applicability gate of its own) and the figures of both models there.
public struct RoundOutcome {
    public let candidate: GatedClassifier
    public let candidateValidation: ClassifierEvaluation
    /// The share of the validation films the candidate's gate finds applicable.
    public let candidateApplicableShare: Double
    public let currentValidation: ClassifierEvaluation
    public let steps: Int
    public let labeledImages: Int
    public let unlabeledImages: Int
    public let seconds: Double
}

/// One round of self-training as DISTL makes it (Park et al., 2022), for a `ResidualCNN` classifier:
///
/// - the teacher and the student both start from the current model;
/// - on an unlabeled batch, the teacher sees a weakly augmented view and gives its sharpened soft
///   predictions; the student sees a strongly augmented view of the same images and learns to
///   give them (cross-entropy against the soft targets);
/// - every `correctionEvery`-th step the student trains on a labeled batch instead, so that the
///   labels keep correcting what the teacher gets wrong;
/// - after every step the teacher follows the student as an exponential moving average;
/// - at the end, the teacher — the smoother of the two — is the candidate, calibrated on the
///   validation set as `train classifier` calibrates, and both models are measured there;
/// - the candidate gets an applicability gate fitted to its own features on the labeled films,
///   keeping the current version's population check (which reads pixels, not the model).
///
/// Nothing here reads a database: the pools come in as pixels, so a round is tested on its own.
public struct DistillationRound {
    public var options: DistillationOptions

    public init(options: DistillationOptions) {
        self.options = options
    }

    /// `pace` runs after every step with the step's duration: the daemon sleeps there to keep
    /// its share of the CPU, and throws there to end a round early (the daemon is stopping).
    public func run(current served: GatedClassifier, labeled: LabeledImageSet, unlabeled: [[UInt8]], validation: LabeledImageSet,
                    pace: (Duration) throws -> Void = { _ in }, progress: (RoundProgress) -> Void = { _ in }) throws -> RoundOutcome {
        try options.validate()
        let current = served.classifier
        let settings = current.settings, side = settings.inputSide
        guard labeled.classes == settings.classes, validation.classes == settings.classes else {
            throw SelfTrainingError("the labeled sets' classes \(labeled.classes) are not the model's \(settings.classes)")
        }
        guard labeled.side == side, validation.side == side, unlabeled.allSatisfy({ $0.count == side * side }) else {
            throw SelfTrainingError("every image must be \(side)×\(side), the model's input")
        }
        guard !unlabeled.isEmpty else { throw SelfTrainingError("no unlabeled images: nothing to learn from") }
        guard labeled.count > 0, validation.count > 0 else { throw SelfTrainingError("no labeled or no validation images") }
        let start = ContinuousClock.now
        let tensors = current.network.checkpointTensors()
        let student = try ResidualCNN(configuration: current.network.configuration, tensors: tensors)
        let teacher = try ResidualCNN(configuration: current.network.configuration, tensors: tensors)
        let names = student.parameters.keys.sorted()
        var optimizer = AdamW(parameters: names.map { student.parameters[$0]! }, learningRate: options.learningRate,
                              weightDecay: options.weightDecay)
        let steps = options.steps(unlabeled: unlabeled.count)
        let schedule = CosineSchedule(peak: options.learningRate, warmupSteps: max(1, steps / 20), totalSteps: steps)
        var generator = SeededGenerator(seed: options.seed)
        var unlabeledOrder = Cycle(count: unlabeled.count, generator: &generator)
        var labeledOrder = Cycle(count: labeled.count, generator: &generator)
        let batchSize = options.batchSize
        var sums = (distillation: 0.0, distillationSteps: 0, correction: 0.0, correctionSteps: 0)

        for step in 0..<steps {
            let stepStart = ContinuousClock.now
            optimizer.learningRate = schedule.rate(at: step)
            let isCorrection = options.correctionEvery >= 2 && (step + 1) % options.correctionEvery == 0
            let loss: Tensor
            if isCorrection {
                let members = labeledOrder.next(min(batchSize, labeled.count), using: &generator).map { labeled.images[$0] }
                let input = InputBatch.make(members.map(\.pixels), side: side, settings: settings, augmentation: options.weak,
                                            generator: &generator)
                loss = student(input, training: true).crossEntropy(targets: Tensor.oneHot(members.map(\.label), classes: settings.classes.count))
                sums.correction += Double(loss.item)
                sums.correctionSteps += 1
            } else {
                let images = unlabeledOrder.next(batchSize, using: &generator).map { unlabeled[$0] }
                // One draw of the generator per view keeps the two views' randomness apart.
                let weak = InputBatch.make(images, side: side, settings: settings, augmentation: options.weak, generator: &generator)
                let strong = InputBatch.make(images, side: side, settings: settings, augmentation: options.strong, generator: &generator)
                let targets = (teacher.frozen()(weak, training: false) * (1 / options.sharpening)).softmax(axis: 1)
                loss = student(strong, training: true).crossEntropy(targets: targets)
                sums.distillation += Double(loss.item)
                sums.distillationSteps += 1
            }
            loss.backward()
            optimizer.step()
            Self.follow(student, with: teacher, decay: options.teacherDecay)
            if (step + 1) % 10 == 0 || step + 1 == steps {
                progress(RoundProgress(step: step + 1, steps: steps,
                                       distillationLoss: sums.distillation / Double(max(sums.distillationSteps, 1)),
                                       correctionLoss: sums.correction / Double(max(sums.correctionSteps, 1)),
                                       elapsedSeconds: ClassifierTrainer.seconds(since: start)))
                sums = (0, 0, 0, 0)
            }
            try pace(ContinuousClock.now - stepStart)
        }

        if options.recomputeBatchStatistics {
            Self.recomputeBatchStatistics(of: teacher, on: unlabeled + labeled.images.map(\.pixels), settings: settings,
                                          batchSize: batchSize, generator: &generator)
        }
        let calibrated = try ClassifierCalibration.calibrate(teacher, settings: settings, on: validation, intervals: false)
        let gate = Self.gate(for: calibrated.classifier, labeled: labeled, keeping: served.gate)
        return RoundOutcome(candidate: GatedClassifier(calibrated.classifier, gate: gate), candidateValidation: calibrated.validation,
                            candidateApplicableShare: ApplicabilityFitting.applicableShare(of: validation.images.map(\.pixels),
                                                                                           classifier: calibrated.classifier, gate: gate),
                            currentValidation: ClassifierEvaluation(classifier: current, set: validation, intervals: false),
                            steps: steps, labeledImages: labeled.count, unlabeledImages: unlabeled.count,
                            seconds: ClassifierTrainer.seconds(since: start))
    }

    /// A gate for the candidate: its own features' distances fitted on the labeled films (the
    /// current version's gate means nothing to the candidate's trunk), with the current gate's
    /// thresholds and population check, which reads the pixels and holds for any version.
    static func gate(for candidate: ImageClassifier, labeled: LabeledImageSet, keeping current: ApplicabilityGate?) -> ApplicabilityGate {
        var options = ApplicabilityFitting.Options()
        if let current {
            options.minimumScore = current.minimumScore
            options.minimumPixelSpread = current.minimumPixelSpread
        }
        let fitted = ApplicabilityFitting.fit(candidate, training: labeled, options: options).gate
        return current?.populationCheck.map(fitted.with(populationCheck:)) ?? fitted
    }

    /// Batch-norm running statistics measured again on plain (unaugmented) images: the moving
    /// average the round leaves was gathered on strongly augmented views (noise, erased squares),
    /// whose statistics differ from a served image's, and the shift that leaves in the logits is
    /// not one a temperature can undo. Cumulative averages over at most `limit` images, in a
    /// seeded order (Wu & Johnson's "precise BN").
    static func recomputeBatchStatistics(of network: ResidualCNN, on images: [[UInt8]], settings: ImageClassifier.Settings,
                                         batchSize: Int, limit: Int = 4096, generator: inout SeededGenerator) {
        var order = Array(images.indices)
        order.shuffle(using: &generator)
        let momentum = network.batchNormMomentum
        defer { network.batchNormMomentum = momentum }
        let chosen = order.prefix(max(batchSize, min(limit, order.count)))
        for (index, start) in stride(from: 0, to: chosen.count - batchSize + 1, by: batchSize).enumerated() {
            let batch = chosen[(chosen.startIndex + start)..<(chosen.startIndex + start + batchSize)].map { images[$0] }
            network.batchNormMomentum = 1 / Float(index + 1)  // the first batch replaces, the k-th weighs 1/k
            _ = network(InputBatch.make(batch, side: settings.inputSide, settings: settings, augmentation: nil, generator: &generator),
                        training: true)
        }
    }

    /// teacher ← decay · teacher + (1 − decay) · student, for the weights and the batch-norm statistics.
    static func follow(_ student: ResidualCNN, with teacher: ResidualCNN, decay: Float) {
        teacher.average(towards: student, decay: decay)
    }

}

/// Indices 0..<count in a seeded shuffled order, reshuffled at each pass: every image once per pass.
struct Cycle {
    private var order: [Int]
    private var position = 0

    init(count: Int, generator: inout SeededGenerator) {
        order = Array(0..<count)
        order.shuffle(using: &generator)
    }

    mutating func next(_ count: Int, using generator: inout SeededGenerator) -> [Int] {
        var taken: [Int] = []
        taken.reserveCapacity(count)
        while taken.count < count {
            if position == order.count {
                order.shuffle(using: &generator)
                position = 0
            }
            taken.append(order[position])
            position += 1
        }
        return taken
    }
}
