import ArgumentParser
import ChildProcesses
import Foundation
import Models
import TensorEngine
import Training

struct TrainClassifierCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classifier",
        abstract: "Train an image classifier (a compact residual CNN) and calibrate it on the validation set.",
        discussion: """
            --data is a folder with train/ and val/ subfolders in the PneumoniaMNIST layout (images \
            and a labels.csv of file,<finding> with 0/1 rows), or the COVID-19 collection (metadata.csv \
            and images/: COVID-19 vs other pneumonia vs no finding, split by patient with \
            --validation-share and --split-seed; images whose finding is unknown, "todo", are left \
            out and counted in the manifest).

            With --folds K (default 5), the recipe is first cross-validated over the training \
            set: K models, each trained on the other folds (stratified, never splitting a \
            patient), measured on their own fold. Their out-of-fold predictions fit the \
            temperature (softmax calibration) and the decision threshold (best balanced accuracy, \
            so that it holds when prevalence changes); then the final model is trained on the \
            whole training set and served with them, and the validation set is only measured: the \
            final check. --cross-validate-only stops after the folds (to compare recipes). With \
            --folds 0 the validation set fits the temperature and threshold instead (quick runs).

            Training keeps the last epoch's weights (or, with --ema, their moving average). \
            --out receives model.safetensors and manifest.json (data, command, commit, options, \
            the cross-validation's fold table, validation figures with 95% bootstrap intervals, \
            time), or only cross-validation.json with --cross-validate-only. Progress (fold, \
            epoch, loss, held-out AUC, time left) goes to standard error.

            Example: radstream train classifier --data ../shared/data/pneumoniamnist --out /tmp/pneumonia --folds 5
            """)

    @Option(help: "Data folder (train/ and val/ inside, or the COVID-19 collection's metadata.csv and images/).") var data: String
    @Option(help: "Output model folder.") var out: String
    @Option(help: "Name of the model and of its positive finding (default: the labels.csv column).") var name: String?
    @Option(help: "Epochs.") var epochs = 30
    @Option(help: "Batch size.") var batchSize = 128
    @Option(help: "Peak learning rate (AdamW, one epoch of warm-up, cosine decay).") var learningRate: Float = 3e-3
    @Option(help: "Decoupled weight decay.") var weightDecay: Float = 0.05
    @Option(help: "Label smoothing of the cross-entropy.") var labelSmoothing: Float = 0
    @Option(help: "Seed of initialisation, shuffling and augmentation.") var seed: UInt64 = 1
    @Option(help: "Share of the training labels to use, stratified (0 < f ≤ 1).") var labelFraction = 1.0
    @Option(help: "Augmentation: none, light (shifts, brightness, contrast), strong (also rotation, scale, gamma).")
    var augmentation: AugmentationChoice = .light
    @Option(help: "Decay per step of a moving average of the weights that is served instead of the last step's (e.g. 0.995).")
    var ema: Float?
    @Option(help: "Folds of the cross-validation over the training set (0: none; the validation set then calibrates).")
    var folds = 5
    @Option(help: "Seed of the fold assignment.") var foldSeed: UInt64 = 1
    @Flag(help: "Stop after the cross-validation: write cross-validation.json, no model.") var crossValidateOnly = false
    @Option(help: "What chose this recipe (its options), for the manifest, e.g. where the comparison of recipes is recorded.")
    var recipeChosenBy = "the command line as given; no comparison recorded"
    @Option(help: "Channels of the three stages, comma-separated.") var channels = "16,32,64"
    @Option(help: "Input side in pixels (centre crop, area average).") var side = 28
    @Option(help: "Add a global self-attention block with this many heads after the last stage (0: none).")
    var attentionHeads = 0
    @Option(help: "Threads the tensor engine uses.") var threads = 2
    @Option(help: "Start from this model's trunk (all but its final layer), e.g. models/pneumonia.") var initializeFrom: String?
    @Flag(help: "Sample every class equally often (for imbalanced collections such as COVID-19).") var balanceClasses = false
    @Option(help: "Share of the patients for validation, where RadStream makes the split.") var validationShare = 0.2
    @Option(help: "Seed of that split.") var splitSeed: UInt64 = 1

    func validate() throws {
        guard epochs > 0, batchSize > 1 else { throw ValidationError("--epochs must be positive and --batch-size at least 2") }
        guard labelFraction > 0, labelFraction <= 1 else { throw ValidationError("--label-fraction must be in (0, 1]") }
        guard parsedChannels != nil else { throw ValidationError("--channels must be three positive integers, e.g. 16,32,64") }
        guard side >= 8 else { throw ValidationError("--side must be at least 8") }
        guard folds == 0 || folds >= 2 else { throw ValidationError("--folds must be 0 (none) or at least 2") }
        guard !crossValidateOnly || folds >= 2 else { throw ValidationError("--cross-validate-only needs --folds of at least 2") }
        guard ema.map({ $0 > 0 && $0 < 1 }) ?? true else { throw ValidationError("--ema must be in (0, 1)") }
        guard attentionHeads >= 0, attentionHeads == 0 || parsedChannels!.last! % attentionHeads == 0 else {
            throw ValidationError("--attention-heads must divide the last stage's channels")
        }
    }

    private var parsedChannels: [Int]? {
        let values = channels.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return values.count == 3 && values.allSatisfy { $0 > 0 } ? values : nil
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let commit = Provenance.commit()  // the tree as training starts, whatever changes while it runs
        let log = StandardError()
        log.line("reading \(data) at \(side)×\(side)")
        let loaded = try TrainingData.load(data, side: side, validationShare: validationShare, splitSeed: splitSeed)
        let (training, validation) = (loaded.training, loaded.validation)
        log.line("classes \(training.classes); training: \(training.count) images \(training.classCounts); validation: \(validation.count) images \(validation.classCounts)")
        log.line("split: \(loaded.split)")

        var options = ClassifierTrainingOptions()
        options.epochs = epochs
        options.batchSize = batchSize
        options.learningRate = learningRate
        options.weightDecay = weightDecay
        options.labelSmoothing = labelSmoothing
        options.seed = seed
        options.labelFraction = labelFraction
        options.augmentation = augmentation.augmentation
        options.emaDecay = ema
        options.channels = parsedChannels!
        options.attentionHeads = attentionHeads > 0 ? attentionHeads : nil
        options.balanceClasses = balanceClasses
        options.initializeFrom = initializeFrom
        let trunk = try initializeFrom.map { path -> ResidualCNN in
            guard let model = try ModelStore.classifiers(at: URL(filePath: path)).first else { throw CommandFailure("no model at \(path)") }
            // The trunk is convolutional with global pooling, so it runs at any side; its filters
            // then see the anatomy at another scale, which fine-tuning has to make up for.
            if model.settings.inputSide != side {
                log.line("starting from \(path)'s trunk, trained at \(model.settings.inputSide) pixels, at \(side)")
            }
            return model.network
        }
        let trainer = ClassifierTrainer(name: name ?? loaded.name, options: options)
        let directory = URL(filePath: out)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

        var crossValidation: ClassifierCrossValidation.Report?
        var calibration = ClassifierCalibration.Rule.fitOnValidation
        if folds >= 2 {
            let report = try ClassifierCrossValidation(folds: folds, seed: foldSeed).run(trainer, on: training, trunk: trunk) { fold, progress in
                Self.logEpoch(progress, of: "fold \(fold + 1)/\(folds) ", watched: "held-out", to: log)
            }
            Self.logFolds(report, to: log)
            crossValidation = report
            calibration = .given(temperature: report.temperature, threshold: report.threshold)
            if crossValidateOnly {
                try Self.write(report, command: Provenance.command, commit: commit,
                               options: options, to: directory)
                log.line("wrote \(directory.path)/\(Self.crossValidationFileName)")
                return
            }
        }
        let outcome = try trainer.train(training: training, validation: validation, trunk: trunk, calibration: calibration) {
            Self.logEpoch($0, of: "", watched: "val", to: log)
        }

        try outcome.classifier.save(to: directory.appendingPathComponent(ModelManifest.weightsFileName))
        let manifest = ModelManifest(
            model: outcome.classifier.settings.name, version: outcome.classifier.settings.version,
            weights: ModelManifest.weightsFileName, createdAt: Date().formatted(.iso8601),
            command: Provenance.command, commit: commit,
            data: .init(source: data, validationShare: validationShare, splitSeed: splitSeed, trainingImages: outcome.trainingImages,
                        validationImages: validation.count, classes: training.classes,
                        trainingClassCounts: outcome.trainingClassCounts,
                        validationClassCounts: validation.classCounts, split: loaded.split),
            options: options, parameters: outcome.classifier.network.parameterCount, bestEpoch: outcome.bestEpoch,
            validation: outcome.validation, validationBeforeCalibration: outcome.uncalibratedValidation,
            temperature: outcome.classifier.settings.temperature, threshold: outcome.classifier.settings.threshold,
            trainingSeconds: outcome.seconds, machine: "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(threads) engine threads",
            history: outcome.history.map { .init(epoch: $0.epoch, trainingLoss: $0.trainingLoss, validationAUC: $0.validationAUC,
                                                 validationAccuracy: $0.validationAccuracy) },
            crossValidation: crossValidation,
            choices: choices(binary: outcome.classifier.settings.isBinary, selectsEpoch: options.selectEpochOnValidation ?? false))
        try manifest.write(to: directory)
        let v = outcome.validation
        let binary = v.balancedAccuracy.map { String(format: " (balanced %.4f) at threshold %.3f", $0, outcome.classifier.settings.threshold ?? .nan) }
        log.line(String(format: "epoch %d; validation AUC %.4f [%.4f, %.4f], accuracy %.4f%@, temperature %.3f, ECE %.4f; %.0f s",
                        outcome.bestEpoch, v.auc, v.aucInterval?[0] ?? .nan, v.aucInterval?[1] ?? .nan, v.accuracy, binary ?? "",
                        outcome.classifier.settings.temperature,
                        v.expectedCalibrationError, outcome.seconds))
        log.line("wrote \(directory.path)/\(ModelManifest.weightsFileName) and \(ModelManifest.fileName) (version \(manifest.version))")
    }

    static let crossValidationFileName = "cross-validation.json"

    /// What chose each setting of the model this run writes.
    func choices(binary: Bool, selectsEpoch: Bool) -> [String: String] {
        let folds = "the out-of-fold predictions of \(self.folds) folds over the training split (stratified, by patient)"
        var choices = [
            "recipe": recipeChosenBy,
            "epoch": selectsEpoch ? "the best validation AUC" : "none: the last epoch of the fixed schedule",
            "temperature": (self.folds >= 2 ? folds : "the validation set") + ", by negative log-likelihood",
            "validation": self.folds >= 2 && !selectsEpoch ? "measured only: it chose nothing" : "it chose what is said here: optimistic",
        ]
        if binary { choices["threshold"] = (self.folds >= 2 ? folds : "the validation set") + ", by best balanced accuracy" }
        return choices
    }

    static func logEpoch(_ progress: TrainingProgress, of prefix: String, watched: String, to log: StandardError) {
        log.line(String(format: "%@epoch %d/%d  loss %.4f  %@ AUC %.4f  acc %.4f  %.0f s, ~%.0f s left", prefix,
                        progress.epoch, progress.epochs, progress.trainingLoss, watched, progress.validationAUC,
                        progress.validationAccuracy, progress.elapsedSeconds, progress.remainingSeconds))
    }

    static func logFolds(_ report: ClassifierCrossValidation.Report, to log: StandardError) {
        for fold in report.perFold {
            log.line(String(format: "fold %d: AUC %.4f  accuracy %.4f  balanced %@  (%d images)", fold.fold, fold.auc, fold.accuracy,
                            fold.balancedAccuracy.map { String(format: "%.4f", $0) } ?? "-", fold.images))
        }
        log.line(String(format: "cross-validation: AUC %.4f ± %.4f, accuracy %.4f ± %.4f%@; temperature %.3f%@", report.auc.mean,
                        report.auc.standardDeviation, report.accuracy.mean, report.accuracy.standardDeviation,
                        report.balancedAccuracy.map { String(format: ", balanced %.4f ± %.4f", $0.mean, $0.standardDeviation) } ?? "",
                        report.temperature, report.threshold.map { String(format: ", threshold %.3f", $0) } ?? ""))
    }

    /// What a recipe's cross-validation alone records, to compare recipes before one is trained.
    struct CrossValidationRecord: Codable {
        var command: String
        var commit: String
        var options: ClassifierTrainingOptions
        var crossValidation: ClassifierCrossValidation.Report
    }

    static func write(_ report: ClassifierCrossValidation.Report, command: String, commit: String, options: ClassifierTrainingOptions,
                      to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(CrossValidationRecord(command: command, commit: commit, options: options, crossValidation: report))
            .write(to: directory.appendingPathComponent(crossValidationFileName))
    }
}

/// The augmentations `train classifier` offers by name.
enum AugmentationChoice: String, ExpressibleByArgument, CaseIterable {
    case none, light, strong

    var augmentation: Augmentation? {
        switch self {
        case .none: nil
        case .light: Augmentation()
        case .strong: Augmentation.strong
        }
    }
}
