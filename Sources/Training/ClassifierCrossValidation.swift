import Foundation
import Models
import TensorEngine

/// k-fold cross-validation of a training recipe (`ClassifierTrainingOptions`) over a training
/// set: the folds are stratified by class and never separate a patient; each fold's model is
/// trained on the other folds with the recipe as it stands (no epoch chosen on the fold it is
/// measured on), and its logits on its own fold are kept. From those out-of-fold logits come
/// the temperature and the threshold the final model is served with, and, for each fold, the
/// figures of a calibration fitted on the *other* folds' predictions: an estimate of the whole
/// procedure, threshold choice included, on images that chose nothing.
public struct ClassifierCrossValidation {
    public var folds: Int
    public var seed: UInt64

    public init(folds: Int, seed: UInt64 = 1) {
        precondition(folds >= 2, "cross-validation needs at least two folds")
        self.folds = folds
        self.seed = seed
    }

    /// One fold's figures, at the temperature and threshold fitted on the other folds.
    public struct Fold: Codable, Sendable, Equatable {
        public var fold: Int
        public var trainingImages: Int
        public var images: Int
        public var auc: Double
        public var classAUC: [String: Double]?
        public var accuracy: Double
        /// Binary: mean of sensitivity and specificity, and the accuracy these would give at
        /// 40% and 80% prevalence (what a population unlike the training one would see).
        public var balancedAccuracy: Double?
        public var accuracyAtPrevalence40: Double?
        public var accuracyAtPrevalence80: Double?
        public var seconds: Double
    }

    public struct Report: Codable, Sendable, Equatable {
        public var folds: Int
        public var seed: UInt64
        public var perFold: [Fold]
        public var auc: FoldSpread
        public var accuracy: FoldSpread
        public var balancedAccuracy: FoldSpread?
        public var accuracyAtPrevalence40: FoldSpread?
        public var accuracyAtPrevalence80: FoldSpread?
        /// Fitted on every out-of-fold prediction: what the final model is served with.
        public var temperature: Float
        public var threshold: Float?
        /// Every out-of-fold prediction pooled, at that temperature and threshold, with 95%
        /// bootstrap intervals (per class for more than two): AUCs over all the training images.
        /// Its accuracy is measured on the images that fitted the threshold; the folds' is not.
        public var outOfFold: ClassifierEvaluation
        public var seconds: Double
    }

    /// The fold (0..<folds) of every image: each class's patients (by the class of their first
    /// image) are shuffled with the seed and dealt to the folds in turn.
    public func assignment(of set: LabeledImageSet) -> [Int] {
        var classOfGroup: [String: Int] = [:]
        for image in set.images where classOfGroup[image.group] == nil { classOfGroup[image.group] = image.label }
        var generator = SeededGenerator(seed: seed)
        var foldOfGroup: [String: Int] = [:]
        var next = 0  // continues across classes, so that small classes do not all start at fold 0
        for label in set.classes.indices {
            var groups = classOfGroup.filter { $0.value == label }.keys.sorted()
            groups.shuffle(using: &generator)
            for group in groups {
                foldOfGroup[group] = next % folds
                next += 1
            }
        }
        return set.images.map { foldOfGroup[$0.group]! }
    }

    /// Trains one model per fold and measures it, reporting each epoch of each fold.
    public func run(_ trainer: ClassifierTrainer, on set: LabeledImageSet, trunk: ResidualCNN? = nil,
                    progress: (_ fold: Int, TrainingProgress) -> Void = { _, _ in }) throws -> Report {
        let start = ContinuousClock.now
        let foldOf = assignment(of: set)
        var outOfFold = [[Float]](repeating: [], count: set.count)
        var trainingCounts: [Int] = [], seconds: [Double] = []
        for fold in 0..<folds {
            let foldStart = ContinuousClock.now
            let heldOut = set.images.indices.filter { foldOf[$0] == fold }
            let training = LabeledImageSet(classes: set.classes, side: set.side, images: set.images.indices.filter { foldOf[$0] != fold }.map { set.images[$0] })
            let measured = LabeledImageSet(classes: set.classes, side: set.side, images: heldOut.map { set.images[$0] })
            guard Set(measured.images.map(\.label)).count == set.classes.count else {
                throw DatasetError("fold \(fold + 1) of \(folds) holds no image of some class: too many folds for \(set.classCounts)")
            }
            // The held-out fold is only watched (progress); the figures below are calibrated on
            // the other folds' predictions.
            let outcome = try trainer.train(training: training, validation: measured, trunk: trunk,
                                            calibration: .given(temperature: 1, threshold: 0.5)) { progress(fold, $0) }
            let logits = ClassifierEvaluation.logits(of: outcome.classifier, on: measured)
            for (index, row) in zip(heldOut, logits) { outOfFold[index] = row }
            trainingCounts.append(training.count)
            seconds.append(ClassifierTrainer.seconds(since: foldStart))
        }

        let labels = set.images.map(\.label)
        let base = ImageClassifier.Settings(name: trainer.name, classes: set.classes, inputSide: set.side)
        let perFold = (0..<folds).map { fold -> Fold in
            let inside = set.images.indices.filter { foldOf[$0] == fold }, outside = set.images.indices.filter { foldOf[$0] != fold }
            var settings = base
            (settings.temperature, settings.threshold) = ClassifierCalibration.fit(logits: outside.map { outOfFold[$0] },
                                                                                   labels: outside.map { labels[$0] }, settings: base)
            let measured = ClassifierEvaluation(settings: settings, logits: inside.map { outOfFold[$0] }, labels: inside.map { labels[$0] },
                                                intervals: false)
            return Fold(fold: fold + 1, trainingImages: trainingCounts[fold], images: measured.images, auc: measured.auc,
                        classAUC: measured.classAUC, accuracy: measured.accuracy, balancedAccuracy: measured.balancedAccuracy,
                        accuracyAtPrevalence40: measured.accuracy(atPrevalence: 0.4), accuracyAtPrevalence80: measured.accuracy(atPrevalence: 0.8),
                        seconds: seconds[fold])
        }
        var served = base
        (served.temperature, served.threshold) = ClassifierCalibration.fit(logits: outOfFold, labels: labels, settings: base)
        func spread(_ value: (Fold) -> Double?) -> FoldSpread? {
            let values = perFold.compactMap(value)
            return values.count == perFold.count ? FoldSpread(values) : nil
        }
        return Report(folds: folds, seed: seed, perFold: perFold, auc: spread(\.auc)!, accuracy: spread(\.accuracy)!,
                      balancedAccuracy: spread(\.balancedAccuracy), accuracyAtPrevalence40: spread(\.accuracyAtPrevalence40),
                      accuracyAtPrevalence80: spread(\.accuracyAtPrevalence80), temperature: served.temperature,
                      threshold: served.threshold,
                      outOfFold: ClassifierEvaluation(settings: served, logits: outOfFold, labels: labels, intervals: true),
                      seconds: ClassifierTrainer.seconds(since: start))
    }
}
