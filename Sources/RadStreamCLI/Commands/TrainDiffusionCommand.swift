import ArgumentParser
import Diffusion
import Foundation
import Models
import TensorEngine
import Training

struct TrainDiffusionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diffusion",
        abstract: "Train the joint diffusion model (Mediffusion): a denoising U-Net whose encoder also classifies.",
        discussion: """
            Every training film is noised at a random step of a 1,000-step linear schedule and the \
            U-Net learns to predict the noise (the denoising loss needs no label); each step the \
            classifier head — reading the pooled outputs of the encoder blocks and the middle — \
            also learns from a batch of labelled films (clean, lightly augmented), weighted by \
            --classification-weight. --label-fraction keeps that share of the labels (stratified, \
            seeded); a tenth of them is kept back to fit the head's temperature and threshold, so \
            that val chooses nothing. The moving average of the weights is kept. Writes \
            model.safetensors and manifest.json to --out.

            Example: radstream train diffusion --data ../shared/data/pneumoniamnist --out /tmp/diffusion --label-fraction 0.05
            """)

    @Option(help: "Data folder (train/ and val/ of class folders, or a collection with metadata.csv).") var data: String
    @Option(help: "Output model folder.") var out: String
    @Option(help: "The model's name (default: the collection's).") var name: String?
    @Option(help: "Share of the training labels the head learns from, in (0, 1].") var labelFraction = 1.0
    @Option(help: "Weight of the classification loss beside the denoising loss.") var classificationWeight: Float = 1e-3
    @Option(help: "Epochs (passes of the denoising over every training film).") var epochs = 30
    @Option(help: "Films per denoising step.") var batchSize = 64
    @Option(help: "Labelled films per step for the head.") var labelledBatchSize = 32
    @Option(help: "Peak learning rate (Adam, warm-up of one epoch, cosine decay).") var learningRate: Float = 1e-3
    @Option(help: "Channels at the 28, 14 and 7-pixel levels, comma-separated.") var channels = "32,64,64"
    @Option(help: "Residual blocks per level in the encoder (the decoder has one more).") var blocksPerLevel = 1
    @Option(help: "Decay per step of the kept moving average of the weights.") var ema: Float = 0.999
    @Option(help: "Seed of initialisation, batching, noise and the label share.") var seed: UInt64 = 1
    @Option(help: "Threads the tensor engine uses.") var threads = 2

    func validate() throws {
        guard epochs > 0, batchSize > 1, labelledBatchSize > 0 else {
            throw ValidationError("--epochs and --labelled-batch-size must be positive, --batch-size at least 2")
        }
        guard labelFraction > 0, labelFraction <= 1 else { throw ValidationError("--label-fraction must be in (0, 1]") }
        guard classificationWeight >= 0 else { throw ValidationError("--classification-weight must not be negative") }
        guard ema > 0, ema < 1 else { throw ValidationError("--ema must be in (0, 1)") }
        guard parsedChannels != nil else { throw ValidationError("--channels must be positive integers, e.g. 32,64,64") }
    }

    private var parsedChannels: [Int]? {
        let values = channels.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return !values.isEmpty && values.allSatisfy { $0 > 0 } ? values : nil
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let commit = Provenance.commit()
        let log = StandardError()
        var options = JointDiffusionOptions()
        options.network.channels = parsedChannels!
        options.network.blocksPerLevel = blocksPerLevel
        let loaded = try TrainingData.load(data, side: options.network.side)
        let (training, validation) = (loaded.training, loaded.validation)
        log.line("classes \(training.classes); training: \(training.count) films \(training.classCounts); validation: \(validation.count) \(validation.classCounts)")
        options.epochs = epochs
        options.batchSize = batchSize
        options.labelledBatchSize = labelledBatchSize
        options.learningRate = learningRate
        options.classificationWeight = classificationWeight
        options.labelFraction = labelFraction
        options.emaDecay = ema
        options.seed = seed
        let directory = URL(filePath: out)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

        var history: [DiffusionManifest.Epoch] = []
        let outcome = try JointDiffusionTrainer(name: name ?? loaded.name, options: options).train(training: training, validation: validation) { step in
            log.line(String(format: "epoch %d/%d  step %d/%d  denoising %.4f  classification %.4f  %.0f s left", step.epoch, step.epochs,
                            step.step, step.steps, step.denoisingLoss, step.classificationLoss, step.remainingSeconds))
            // The last report of each epoch (reports come every 20 steps, epochs end where they end).
            if history.last?.epoch == step.epoch { history.removeLast() }
            history.append(.init(epoch: step.epoch, denoisingLoss: step.denoisingLoss, classificationLoss: step.classificationLoss,
                                 seconds: step.elapsedSeconds))
        }
        let model = outcome.model
        try model.save(to: directory.appending(path: ModelStore.weightsFileName))
        let manifest = DiffusionManifest(
            model: model.settings.name, version: model.settings.version, weights: ModelStore.weightsFileName,
            createdAt: Date().formatted(.iso8601), command: Provenance.command,
            commit: commit,
            data: .init(source: data, validationShare: 0.2, splitSeed: 1, trainingImages: training.count, validationImages: validation.count,
                        classes: training.classes, trainingClassCounts: training.classCounts, validationClassCounts: validation.classCounts,
                        split: loaded.split),
            options: options, parameters: model.network.parameterCount, labelledImages: outcome.labelledImages,
            calibrationImages: outcome.calibration.images, calibration: outcome.calibration, validation: outcome.validation,
            validationDenoisingLoss: outcome.validationDenoisingLoss, temperature: model.settings.temperature,
            threshold: model.settings.threshold, trainingSeconds: outcome.seconds,
            machine: "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(threads) engine threads", history: history,
            choices: [
                "recipe": "fixed before training (the issue's sizes and the DDPM defaults); not tuned on val",
                "temperature": "fitted on the calibration films, labelled training films kept back from the head",
                "threshold": "best balanced accuracy on the calibration films",
                "validation": "measured once at the end; chose nothing",
            ])
        try ManifestFile.write(manifest, to: directory)
        let v = outcome.validation
        log.line(String(format: "val: AUC %.4f [%.4f, %.4f], accuracy %.4f, balanced %.4f; denoising loss %.4f; %.0f s",
                        v.auc, v.aucInterval?[0] ?? .nan, v.aucInterval?[1] ?? .nan, v.accuracy, v.balancedAccuracy ?? .nan,
                        outcome.validationDenoisingLoss, outcome.seconds))
        log.line("wrote \(directory.path)/\(ModelStore.weightsFileName) and \(ManifestFile.name) (version \(model.settings.version), \(model.network.parameterCount) parameters)")
    }
}
