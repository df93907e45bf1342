import Foundation
import Models
import TensorEngine

/// How a classifier is trained: what `radstream train classifier` exposes.
public struct ClassifierTrainingOptions: Codable, Sendable, Equatable {
    public var epochs = 30
    public var batchSize = 128
    /// AdamW's peak rate, reached after one epoch of linear warm-up, then cosine decay to zero.
    public var learningRate: Float = 3e-3
    public var weightDecay: Float = 0.05
    public var labelSmoothing: Float = 0
    public var seed: UInt64 = 1
    /// The share of the training labels used (stratified, seeded).
    public var labelFraction = 1.0
    /// nil: no augmentation.
    public var augmentation: Augmentation? = Augmentation()
    public var channels = [16, 32, 64]
    /// Heads of a global self-attention block after the last stage (the ablation); nil: none.
    public var attentionHeads: Int?
    /// Draw each epoch's images class by class, every class equally often (with replacement):
    /// for collections where one class has a few images and another hundreds.
    public var balanceClasses = false
    /// A model whose trunk (every weight but the final linear layer) the network starts from:
    /// transfer from a larger collection to a small one. nil: random initialisation.
    public var initializeFrom: String?
    /// Serve an exponential moving average of the weights (and batch-norm statistics) with this
    /// decay per step instead of the last step's; nil: the last step's.
    public var emaDecay: Float?
    /// true: keep the epoch with the best validation AUC (the validation set then chooses, and is
    /// no longer a clean check); nil or false: the last epoch's weights, the cosine schedule's end.
    public var selectEpochOnValidation: Bool?

    public init() {}
}

/// Where training stands, after each epoch.
public struct TrainingProgress: Sendable {
    public let epoch: Int
    public let epochs: Int
    public let trainingLoss: Double
    public let validationAUC: Double
    public let validationAccuracy: Double
    public let isBest: Bool
    public let elapsedSeconds: Double
    public var remainingSeconds: Double { elapsedSeconds / Double(epoch) * Double(epochs - epoch) }
}

/// What training produced: the classifier of the last epoch (or of the best validation epoch,
/// where asked), calibrated on the validation set, and its figures there.
public struct TrainingOutcome {
    public let classifier: ImageClassifier
    public let bestEpoch: Int
    public let validation: ClassifierEvaluation
    /// The same model before temperature scaling and threshold choice (threshold 0.5), for comparison.
    public let uncalibratedValidation: ClassifierEvaluation
    public let history: [TrainingProgress]
    /// Images per class actually trained on (after `labelFraction`).
    public let trainingClassCounts: [Int]
    public var trainingImages: Int { trainingClassCounts.reduce(0, +) }
    public let seconds: Double
}

/// Trains a `ResidualCNN` classifier with AdamW, a warm-up and cosine schedule, and seeded
/// shuffling and augmentation; keeps the last epoch's weights (or their moving average, or the
/// best validation epoch's where asked: see the options); then calibrates them, by default on
/// the validation set (see `ClassifierCalibration`). The validation set is otherwise only watched.
public struct ClassifierTrainer {
    public var options: ClassifierTrainingOptions
    public var name: String

    public init(name: String, options: ClassifierTrainingOptions) {
        self.name = name
        self.options = options
    }

    /// `trunk`: a network whose weights of the same name and shape, all but the final linear
    /// layer's, are copied in before training (see `initializeFrom`).
    public func train(training fullTraining: LabeledImageSet, validation: LabeledImageSet, trunk: ResidualCNN? = nil,
                      calibration: ClassifierCalibration.Rule = .fitOnValidation,
                      progress: (TrainingProgress) -> Void = { _ in }) throws -> TrainingOutcome {
        guard fullTraining.classes == validation.classes, fullTraining.side == validation.side else {
            throw DatasetError("training classes \(fullTraining.classes) and validation classes \(validation.classes) differ")
        }
        let training = fullTraining.fraction(options.labelFraction, seed: options.seed)
        guard training.count > 0, validation.count > 0 else { throw DatasetError("no training or no validation images") }
        let start = ContinuousClock.now
        let side = training.side, classes = training.classes
        let network = ResidualCNN(configuration: .init(channels: options.channels, classes: classes.count,
                                                                attentionHeads: options.attentionHeads), seed: options.seed)
        if let trunk { try Self.copyTrunk(of: trunk, into: network) }
        let settings = ImageClassifier.Settings(name: name, classes: classes, inputSide: side)
        let parameters = network.parameters.keys.sorted().map { network.parameters[$0]! }
        var optimizer = AdamW(parameters: parameters, learningRate: options.learningRate, weightDecay: options.weightDecay)
        let batchSize = min(options.batchSize, training.count)
        let stepsPerEpoch = training.count / batchSize  // the last partial batch is dropped: batch norm wants full batches
        let schedule = CosineSchedule(peak: options.learningRate, warmupSteps: stepsPerEpoch, totalSteps: stepsPerEpoch * options.epochs)
        var generator = SeededGenerator(seed: options.seed &+ 1)
        var order = Array(training.images.indices)
        var history: [TrainingProgress] = []
        var best: (auc: Double, epoch: Int, network: ResidualCNN)? = nil
        var step = 0
        let average = options.emaDecay.map { decay in WeightAverage(of: network, decay: decay) }
        let selectsOnValidation = options.selectEpochOnValidation ?? false

        let classMembers = training.classes.indices.map { label in training.images.indices.filter { training.images[$0].label == label } }
            .filter { !$0.isEmpty }
        for epoch in 1...options.epochs {
            if options.balanceClasses {
                order = order.indices.map { _ in
                    let group = classMembers[Int(generator.next() % UInt64(classMembers.count))]
                    return group[Int(generator.next() % UInt64(group.count))]
                }
            } else {
                order.shuffle(using: &generator)
            }
            var lossSum = 0.0
            for batchStart in stride(from: 0, to: stepsPerEpoch * batchSize, by: batchSize) {
                let batchImages = order[batchStart..<(batchStart + batchSize)].map { training.images[$0] }
                let (input, targets) = batch(batchImages, side: side, classes: classes.count, settings: settings, generator: &generator)
                optimizer.learningRate = schedule.rate(at: step)
                let loss = network(input, training: true).crossEntropy(targets: targets, labelSmoothing: options.labelSmoothing)
                lossSum += Double(loss.item)
                loss.backward()
                optimizer.step()
                average?.update(from: network)
                step += 1
            }
            let served = average?.network ?? network
            let snapshot = ImageClassifier(network: served, settings: settings)
            let evaluation = ClassifierEvaluation(classifier: snapshot, set: validation, intervals: false)
            let isBest = selectsOnValidation ? best == nil || evaluation.auc > best!.auc : epoch == options.epochs
            if isBest {
                let copy = ResidualCNN(configuration: network.configuration, seed: 0)
                copy.load(from: served)
                best = (evaluation.auc, epoch, copy)
            }
            let report = TrainingProgress(epoch: epoch, epochs: options.epochs, trainingLoss: lossSum / Double(max(stepsPerEpoch, 1)),
                                          validationAUC: evaluation.auc, validationAccuracy: evaluation.accuracy, isBest: isBest,
                                          elapsedSeconds: Self.seconds(since: start))
            history.append(report)
            progress(report)
        }

        let calibrated = try ClassifierCalibration.calibrate(best!.network, settings: settings, by: calibration, on: validation,
                                                             intervals: true)
        return TrainingOutcome(classifier: calibrated.classifier, bestEpoch: best!.epoch, validation: calibrated.validation,
                               uncalibratedValidation: calibrated.uncalibrated, history: history,
                               trainingClassCounts: training.classCounts, seconds: Self.seconds(since: start))
    }

    /// An exponential moving average of a network's weights and batch-norm statistics.
    final class WeightAverage {
        let network: ResidualCNN
        let decay: Float

        init(of source: ResidualCNN, decay: Float) {
            network = ResidualCNN(configuration: source.configuration, seed: 0)
            network.load(from: source)
            self.decay = decay
        }

        func update(from source: ResidualCNN) {
            network.average(towards: source, decay: decay)
        }
    }

    static func copyTrunk(of source: ResidualCNN, into network: ResidualCNN) throws {
        for (name, parameter) in network.parameters where !name.hasPrefix("fc.") {
            guard let weights = source.parameters[name], weights.shape == parameter.shape else {
                throw DatasetError("the starting model has no \(name) of shape \(parameter.shape): its channels differ")
            }
            parameter.data = weights.data
        }
        network.runningStatistics = source.runningStatistics
    }

    /// An input batch (augmented when asked) and its one-hot targets.
    private func batch(_ members: [LabeledImage], side: Int, classes: Int, settings: ImageClassifier.Settings,
                       generator: inout SeededGenerator) -> (Tensor, Tensor) {
        let input = InputBatch.make(members.map(\.pixels), side: side, settings: settings, augmentation: options.augmentation,
                                    generator: &generator)
        return (input, Tensor.oneHot(members.map(\.label), classes: classes))
    }

    public static func seconds(since start: ContinuousClock.Instant) -> Double {
        let duration = ContinuousClock.now - start
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
