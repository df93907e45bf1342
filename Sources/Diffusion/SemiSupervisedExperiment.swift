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
/// kept-back films and measured once on `val`.
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
        public var labelledImages: Int
        public var validation: ClassifierEvaluation
        public var seconds: Double
    }

    public static let models = ["joint diffusion (Mediffusion)", "the same encoder, labels only", "residual CNN, labels only"]

    public func run(name: String, training: LabeledImageSet, validation: LabeledImageSet, fractions: [Double],
                    progress: (String) -> Void = { _ in }) throws -> [Row] {
        var rows: [Row] = []
        for fraction in fractions {
            var joint = options
            joint.labelFraction = fraction
            var supervised = joint
            supervised.denoisingWeight = 0
            supervised.classificationWeight = 1
            for (model, recipe) in zip(Self.models.prefix(2), [joint, supervised]) {
                progress("\(Int(fraction * 100))% labels: \(model)")
                let outcome = try JointDiffusionTrainer(name: name, options: recipe).train(training: training, validation: validation) { step in
                    if step.step % 200 == 0 || step.step == step.steps {
                        progress(String(format: "  step %d/%d  denoising %.4f  classification %.4f  %.0f s left", step.step, step.steps,
                                        step.denoisingLoss, step.classificationLoss, step.remainingSeconds))
                    }
                }
                rows.append(Row(labelFraction: fraction, model: model, labelledImages: outcome.labelledImages,
                                validation: outcome.validation, seconds: outcome.seconds))
            }
            progress("\(Int(fraction * 100))% labels: \(Self.models[2])")
            let (head, calibration) = JointDiffusionTrainer.labelledSplit(training, fraction: fraction,
                                                                          calibrationShare: options.calibrationShare, seed: options.seed)
            var cnnOptions = classifierOptions
            cnnOptions.labelFraction = 1
            // Trained on the head's films, calibrated on the kept-back ones (they stand in for `val`
            // in the trainer), measured on `val`.
            let cnn = try ClassifierTrainer(name: name, options: cnnOptions).train(training: head, validation: calibration)
            rows.append(Row(labelFraction: fraction, model: Self.models[2], labelledImages: head.count,
                            validation: ClassifierEvaluation(classifier: cnn.classifier, set: validation, intervals: true), seconds: cnn.seconds))
        }
        return rows
    }
}
