import Foundation
import Models
import TensorEngine
import Training

/// Mediffusion's claim, tested: with few labels, does the joint model's head beat the same
/// encoder trained on the labels alone, and the residual CNN trained on the same labels?
///
/// For each label fraction, the same stratified, seeded labelled films (less the tenth kept back
/// for calibration, the same for every model) train three models: the joint model (denoising on
/// every training film, the head on the labelled ones); the same U-Net encoder and head on the
/// labelled films alone, with the same labelled batches (no denoising: what the unlabelled films
/// add is all that differs); and the shipped residual CNN recipe. Each is calibrated on the
/// kept-back films and measured once: on `val` (`run`), or, in k-fold cross-validation over
/// `train` (`crossValidate`), on the fold its training set left out.
public struct SemiSupervisedExperiment {
    public var options: JointDiffusionOptions
    public var classifierOptions: ClassifierTrainingOptions

    public init(options: JointDiffusionOptions, classifierOptions: ClassifierTrainingOptions = ClassifierTrainingOptions()) {
        self.options = options
        self.classifierOptions = classifierOptions
    }

    public struct Row: Codable, Sendable {
        public var labelFraction: Double
        public var model: String
        /// nil: trained on `train`, measured on `val`; k: trained on the other folds of `train`,
        /// measured on fold k (from 1).
        public var fold: Int?
        public var labelledImages: Int
        public var evaluation: ClassifierEvaluation
        public var seconds: Double
    }

    /// One fraction and model over the folds: the spread of its figures, and its AUC minus each
    /// other model's on the same fold (paired: the folds differ more than the models do).
    public struct Summary: Codable, Sendable {
        public var labelFraction: Double
        public var model: String
        public var folds: Int
        public var auc: FoldSpread
        public var accuracy: FoldSpread
        public var aucAbove: [String: FoldSpread]
    }

    public static let models = ["joint diffusion (Mediffusion)", "the same encoder, labels only", "residual CNN, labels only"]

    /// Each fraction's three models trained on `training` and measured on `validation`.
    public func run(name: String, training: LabeledImageSet, validation: LabeledImageSet, fractions: [Double],
                    progress: (String) -> Void = { _ in }) throws -> [Row] {
        try fractions.flatMap { try compare(name: name, fraction: $0, training: training, measured: validation, fold: nil, progress: progress) }
    }

    /// k-fold cross-validation over `training` (folds stratified by class, never separating a
    /// patient, as the classifiers' cross-validation deals them): for each fold and fraction, the
    /// three models trained on the other folds and measured on it.
    public func crossValidate(name: String, training: LabeledImageSet, folds: Int, fractions: [Double],
                              progress: (String) -> Void = { _ in }) throws -> [Row] {
        let foldOf = ClassifierCrossValidation(folds: folds, seed: options.seed).assignment(of: training)
        var rows: [Row] = []
        for fold in 0..<folds {
            let inside = LabeledImageSet(classes: training.classes, side: training.side,
                                         images: training.images.indices.filter { foldOf[$0] == fold }.map { training.images[$0] })
            let outside = LabeledImageSet(classes: training.classes, side: training.side,
                                          images: training.images.indices.filter { foldOf[$0] != fold }.map { training.images[$0] })
            for value in fractions {
                progress("fold \(fold + 1) of \(folds): trained on \(outside.count) films, measured on \(inside.count)")
                rows += try compare(name: name, fraction: value, training: outside, measured: inside, fold: fold + 1, progress: progress)
            }
        }
        return rows
    }

    /// Per fraction and model, over the fold rows of `crossValidate`.
    public static func summarize(_ rows: [Row]) -> [Summary] {
        let folded = rows.filter { $0.fold != nil }
        var summaries: [Summary] = []
        for fraction in Array(Set(folded.map(\.labelFraction))).sorted() {
            let here = folded.filter { $0.labelFraction == fraction }
            for model in models {
                let mine = here.filter { $0.model == model }.sorted { $0.fold! < $1.fold! }
                guard !mine.isEmpty else { continue }
                var above: [String: FoldSpread] = [:]
                for other in models where other != model {
                    let differences = mine.compactMap { row in
                        here.first { $0.model == other && $0.fold == row.fold }.map { row.evaluation.auc - $0.evaluation.auc }
                    }
                    if !differences.isEmpty { above[other] = FoldSpread(differences) }
                }
                summaries.append(Summary(labelFraction: fraction, model: model, folds: mine.count,
                                         auc: FoldSpread(mine.map(\.evaluation.auc)),
                                         accuracy: FoldSpread(mine.map(\.evaluation.accuracy)),
                                         aucAbove: above))
            }
        }
        return summaries
    }

    /// The three models at one fraction, on the same labelled films, measured on `measured`.
    private func compare(name: String, fraction: Double, training: LabeledImageSet, measured: LabeledImageSet, fold: Int?,
                         progress: (String) -> Void) throws -> [Row] {
        var rows: [Row] = []
        var joint = options
        joint.labelFraction = fraction
        var supervised = joint
        supervised.denoisingWeight = 0
        supervised.classificationWeight = 1
        for (model, recipe) in zip(Self.models.prefix(2), [joint, supervised]) {
            progress("\(Int(fraction * 100))% labels: \(model)")
            let outcome = try JointDiffusionTrainer(name: name, options: recipe).train(training: training, validation: measured) { step in
                if step.step % 200 == 0 || step.step == step.steps {
                    progress(String(format: "  step %d/%d  denoising %.4f  classification %.4f  %.0f s left", step.step, step.steps,
                                    step.denoisingLoss, step.classificationLoss, step.remainingSeconds))
                }
            }
            rows.append(Row(labelFraction: fraction, model: model, fold: fold, labelledImages: outcome.labelledImages,
                            evaluation: outcome.validation, seconds: outcome.seconds))
        }
        progress("\(Int(fraction * 100))% labels: \(Self.models[2])")
        let (head, calibration) = JointDiffusionTrainer.labelledSplit(training, fraction: fraction,
                                                                      calibrationShare: options.calibrationShare, seed: options.seed)
        var cnnOptions = classifierOptions
        cnnOptions.labelFraction = 1
        // Trained on the head's films, calibrated on the kept-back ones (they stand in for `val`
        // in the trainer), measured on `measured`.
        let cnn = try ClassifierTrainer(name: name, options: cnnOptions).train(training: head, validation: calibration)
        rows.append(Row(labelFraction: fraction, model: Self.models[2], fold: fold, labelledImages: head.count,
                        evaluation: ClassifierEvaluation(classifier: cnn.classifier, set: measured, intervals: true), seconds: cnn.seconds))
        return rows
    }
}
