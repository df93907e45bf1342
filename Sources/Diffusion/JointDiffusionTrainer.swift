import Foundation
import Models
import TensorEngine
import Training

/// How the joint model is trained: what `radstream train diffusion` exposes.
public struct JointDiffusionOptions: Codable, Sendable, Equatable {
    public var epochs = 30
    /// Films per denoising step (every training film, labelled or not, is denoised once per epoch).
    public var batchSize = 64
    /// Labelled films per step for the classifier head, drawn in turn from the labelled share.
    public var labelledBatchSize = 32
    /// Adam's peak rate, after a warm-up of one epoch, then cosine decay.
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 0
    /// The weight of the classification loss beside the denoising loss. Adam scales each weight's
    /// step by its own gradients, so the head learns at its full rate whatever this is; what it
    /// sets is how much the labels shape the shared trunk against the denoising.
    public var classificationWeight: Float = 1e-3
    /// The weight of the denoising loss; 0 trains the same encoder and head on the labelled films
    /// alone (the supervised-only baseline of the semi-supervised experiment), without denoising.
    public var denoisingWeight: Float = 1
    /// The share of the training labels the head learns from (stratified, seeded); the films
    /// themselves are all denoised.
    public var labelFraction = 1.0
    /// The share of the labelled films kept back from the head to fit its temperature and
    /// threshold (stratified, seeded): `val` chooses nothing.
    public var calibrationShare = 0.1
    /// The decay per step of the moving average of the weights that is kept.
    public var emaDecay: Float = 0.999
    /// Whether the average starts with a short memory (decay (1 + n)/(10 + n) at step n, up to
    /// `emaDecay`): without it, a run of fewer than a few thousand steps keeps much of its
    /// initialisation (0.999⁷³⁰ ≈ 0.48). Manifests written before it existed read as `false`.
    public var emaWarmUp = true
    public var seed: UInt64 = 1
    /// For the head's films only: the denoising learns the films as they are.
    public var augmentation: Augmentation? = Augmentation()
    public var network = DiffusionUNet.Configuration()
    public var schedule = NoiseSchedule()

    public init() {}

    /// Every field falls back to its default when absent, except the warm-up, which models
    /// trained before it existed did without, and the augmentation, which is absent when none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, or fallback: T) throws -> T {
            try container.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        let defaults = JointDiffusionOptions()
        epochs = try value(.epochs, or: defaults.epochs)
        batchSize = try value(.batchSize, or: defaults.batchSize)
        labelledBatchSize = try value(.labelledBatchSize, or: defaults.labelledBatchSize)
        learningRate = try value(.learningRate, or: defaults.learningRate)
        weightDecay = try value(.weightDecay, or: defaults.weightDecay)
        classificationWeight = try value(.classificationWeight, or: defaults.classificationWeight)
        denoisingWeight = try value(.denoisingWeight, or: defaults.denoisingWeight)
        labelFraction = try value(.labelFraction, or: defaults.labelFraction)
        calibrationShare = try value(.calibrationShare, or: defaults.calibrationShare)
        emaDecay = try value(.emaDecay, or: defaults.emaDecay)
        emaWarmUp = try value(.emaWarmUp, or: false)
        seed = try value(.seed, or: defaults.seed)
        augmentation = try container.decodeIfPresent(Augmentation.self, forKey: .augmentation)  // absent: none, as written
        network = try value(.network, or: defaults.network)
        schedule = try value(.schedule, or: defaults.schedule)
    }
}

/// Where training stands, every few steps.
public struct DiffusionProgress: Sendable {
    public let epoch: Int
    public let epochs: Int
    public let step: Int
    public let steps: Int
    /// Means since the last report.
    public let denoisingLoss: Double
    public let classificationLoss: Double
    public let elapsedSeconds: Double
    public var remainingSeconds: Double { elapsedSeconds / Double(max(step, 1)) * Double(steps - step) }
}

/// What training produced, and how it did.
public struct JointDiffusionOutcome {
    public let model: JointDiffusionModel
    /// The head on the held-back calibration films and on `val` (measured once, at the end).
    public let calibration: ClassifierEvaluation
    public let validation: ClassifierEvaluation
    /// The denoising loss of the kept weights on `val` at fixed steps and noise.
    public let validationDenoisingLoss: Double
    public let labelledImages: Int
    public let trainingImages: Int
    public let seconds: Double
}

/// Trains a `DiffusionUNet` jointly (Mediffusion): each step, the denoising loss (ε-prediction,
/// mean squared error) on a batch of training films noised at uniformly drawn steps, plus
/// `classificationWeight` × the cross-entropy of the head on a batch of labelled films, clean
/// (step 0) and lightly augmented. An exponential moving average of the weights is what is kept.
public struct JointDiffusionTrainer {
    public var options: JointDiffusionOptions
    public var name: String

    public init(name: String, options: JointDiffusionOptions) {
        self.name = name
        self.options = options
    }

    public func train(training: LabeledImageSet, validation: LabeledImageSet,
                      progress: (DiffusionProgress) -> Void = { _ in }) throws -> JointDiffusionOutcome {
        guard training.classes == validation.classes, training.side == validation.side else {
            throw DatasetError("training classes \(training.classes) and validation classes \(validation.classes) differ")
        }
        guard training.side == options.network.side else {
            throw DiffusionError("the network is built for \(options.network.side)-pixel films, the data is \(training.side)")
        }
        var configuration = options.network
        configuration.classes = training.classes.count
        let (head, calibrationSet) = Self.labelledSplit(training, fraction: options.labelFraction, calibrationShare: options.calibrationShare,
                                                        seed: options.seed)
        guard head.count > 0, calibrationSet.count > 0, validation.count > 0 else {
            throw DatasetError("too few labels: \(head.count) for the head, \(calibrationSet.count) to calibrate it")
        }
        let start = ContinuousClock.now
        let network = try DiffusionUNet(configuration: configuration, seed: options.seed)
        var settings = JointDiffusionModel.settings(name: name, classes: training.classes, side: training.side)
        let names = network.parameters.keys.sorted()
        let parameters = names.map { network.parameters[$0]! }
        var optimizer = AdamW(parameters: parameters, learningRate: options.learningRate, weightDecay: options.weightDecay)
        var average = ExponentialMovingAverage(of: parameters, decay: options.emaDecay, warmUp: options.emaWarmUp)
        let batchSize = min(options.batchSize, training.count)
        let stepsPerEpoch = max(1, training.count / batchSize), steps = stepsPerEpoch * options.epochs
        let schedule = CosineSchedule(peak: options.learningRate, warmupSteps: stepsPerEpoch, totalSteps: steps)
        let alphaBars = options.schedule.alphaBars
        var generator = SeededGenerator(seed: options.seed &+ 1)
        var order = Array(training.images.indices)
        var labelled = Array(head.images.indices).shuffled(using: &generator), labelledPosition = 0
        var sums = (denoising: 0.0, classification: 0.0, count: 0)
        var step = 0
        for epoch in 1...options.epochs {
            order.shuffle(using: &generator)
            for batchStart in stride(from: 0, to: stepsPerEpoch * batchSize, by: batchSize) {
                optimizer.learningRate = schedule.rate(at: step)
                let denoising: Tensor
                if options.denoisingWeight > 0 {
                    let films = order[batchStart..<(batchStart + batchSize)].map { training.images[$0].pixels }
                    let clean = InputBatch.make(films, side: training.side, settings: settings, augmentation: nil, generator: &generator)
                    let (noised, noise, timesteps) = Self.noised(clean, alphaBars: alphaBars, generator: &generator)
                    denoising = Self.meanSquaredError(network(noised, steps: timesteps), noise)
                } else {
                    denoising = Tensor(scalar: 0)
                }
                var members: [LabeledImage] = []
                while members.count < min(options.labelledBatchSize, head.count) {
                    if labelledPosition == labelled.count { labelled.shuffle(using: &generator); labelledPosition = 0 }
                    members.append(head.images[labelled[labelledPosition]])
                    labelledPosition += 1
                }
                let input = InputBatch.make(members.map(\.pixels), side: training.side, settings: settings,
                                            augmentation: options.augmentation, generator: &generator)
                let classification = network.logits(input).crossEntropy(targets: Tensor.oneHot(members.map(\.label), classes: training.classes.count))
                let loss = denoising * options.denoisingWeight + classification * options.classificationWeight
                loss.backward()
                optimizer.step()
                average.update(from: parameters)
                step += 1
                sums = (sums.denoising + Double(denoising.item), sums.classification + Double(classification.item), sums.count + 1)
                if step % 20 == 0 || step == steps {
                    progress(DiffusionProgress(epoch: epoch, epochs: options.epochs, step: step, steps: steps,
                                               denoisingLoss: sums.denoising / Double(sums.count),
                                               classificationLoss: sums.classification / Double(sums.count),
                                               elapsedSeconds: ClassifierTrainer.seconds(since: start)))
                    sums = (0, 0, 0)
                }
            }
        }
        for (parameter, shadow) in zip(parameters, average.shadow) { parameter.data = shadow }
        settings.version = try ModelVersion.of(network.parameters)
        // The head's temperature and threshold from the films kept back from it.
        let uncalibrated = JointDiffusionModel(network: network, schedule: options.schedule, settings: settings)
        let calibrationLogits = uncalibrated.logits(calibrationSet.images.map(\.pixels))
        (settings.temperature, settings.threshold) = ClassifierCalibration.fit(logits: calibrationLogits,
                                                                              labels: calibrationSet.images.map(\.label), settings: settings)
        let model = JointDiffusionModel(network: network, schedule: options.schedule, settings: settings)
        return JointDiffusionOutcome(
            model: model,
            calibration: ClassifierEvaluation(settings: settings, logits: calibrationLogits, labels: calibrationSet.images.map(\.label),
                                              intervals: false),
            validation: ClassifierEvaluation(settings: settings, logits: model.logits(validation.images.map(\.pixels)),
                                             labels: validation.images.map(\.label), intervals: true),
            validationDenoisingLoss: Self.denoisingLoss(of: model, on: validation.images.map(\.pixels), seed: options.seed),
            labelledImages: head.count, trainingImages: training.count, seconds: ClassifierTrainer.seconds(since: start))
    }

    /// The labelled films the head learns from, and those kept back to calibrate it: both from
    /// the stratified, seeded `fraction` of the training labels.
    static func labelledSplit(_ training: LabeledImageSet, fraction: Double, calibrationShare: Double,
                              seed: UInt64) -> (head: LabeledImageSet, calibration: LabeledImageSet) {
        let labelled = training.fraction(fraction, seed: seed)
        let calibration = labelled.fraction(calibrationShare, seed: seed &+ 7)
        let held = Set(calibration.images.map(\.file))
        return (LabeledImageSet(classes: labelled.classes, side: labelled.side, images: labelled.images.filter { !held.contains($0.file) }),
                calibration)
    }

    /// xₜ = √ᾱₜ·x₀ + √(1 − ᾱₜ)·ε for steps drawn uniformly, with the noise and the steps.
    static func noised(_ clean: Tensor, alphaBars: [Double], generator: inout SeededGenerator,
                       steps fixed: [Int]? = nil) -> (Tensor, Tensor, [Int]) {
        let batch = clean.shape[0], pixels = clean.count / batch
        let steps = fixed ?? (0..<batch).map { _ in Int(generator.next() % UInt64(alphaBars.count)) }
        var noise = [Float](repeating: 0, count: clean.count), noised = noise
        for n in 0..<batch {
            let (a, b) = (Float(alphaBars[steps[n]].squareRoot()), Float((1 - alphaBars[steps[n]]).squareRoot()))
            for i in (n * pixels)..<((n + 1) * pixels) {
                noise[i] = generator.normal()
                noised[i] = a * clean.data[i] + b * noise[i]
            }
        }
        return (Tensor(shape: clean.shape, data: noised), Tensor(shape: clean.shape, data: noise), steps)
    }

    static func meanSquaredError(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        let difference = prediction - target
        return (difference * difference).mean()
    }


    /// The mean denoising loss of a model on films, at steps and noise fixed by `seed` (ten steps
    /// across the schedule for every film), so that two models compare on the same draws.
    public static func denoisingLoss(of model: JointDiffusionModel, on films: [[UInt8]], seed: UInt64) -> Double {
        let frozen = model.network.frozen()
        var generator = SeededGenerator(seed: seed &+ 99)
        var total = 0.0, count = 0
        for start in stride(from: 0, to: films.count, by: 64) {
            let slice = Array(films[start..<min(start + 64, films.count)])
            let clean = model.input(slice)
            for tenth in 0..<10 {
                let step = (2 * tenth + 1) * model.schedule.steps / 20
                let (noised, noise, steps) = noised(clean, alphaBars: model.alphaBars, generator: &generator,
                                                    steps: [Int](repeating: step, count: slice.count))
                total += Double(meanSquaredError(frozen(noised, steps: steps), noise).item) * Double(slice.count)
                count += slice.count
            }
        }
        return total / Double(max(count, 1))
    }
}
