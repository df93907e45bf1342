import ArgumentParser
import Foundation
import Models
import Pipeline
import Postgres
import SelfTraining
import TensorEngine

/// `radstream self-train --now`: one self-training round by hand, with its progress.
struct SelfTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "self-train",
        abstract: "Run one self-training round now: learn from the unlabeled images the stream kept.",
        discussion: """
            The round (DISTL): the served model is the teacher; the student starts from it and learns \
            the teacher's soft predictions on weakly augmented unlabeled images (images.labels NULL, \
            pixels from image_pixels) while seeing strongly augmented views; every few steps it trains \
            on the labeled set again (the correction); the teacher follows the student as a moving \
            average. The teacher at the end is the candidate, calibrated on the validation set and \
            promoted only if its AUC there is at least the served model's and its calibration no \
            worse (selfTraining.gate). The candidate goes to the registry either way, the round to \
            self_training_rounds; a promotion is announced to every running daemon.

            Labels: train/ of --data (or selfTraining.labeledData), with --label-fraction of it, \
            plus the images whose events carried a label; val/ decides promotion and is never \
            trained on. Only one instance per consumer group trains at a time: if another holds the \
            leadership, this command says so and exits with status 3. `radstream serve` runs the \
            same rounds on its own when selfTraining.enabled is set.

            Example: radstream self-train --now --data ../shared/data/pneumoniamnist --label-fraction 0.05
            """)

    @OptionGroup var options: ConfigurationOptions
    @Flag(help: "Run the round now (required: a reminder that this trains and may change the served model).") var now = false
    @Option(help: "libpq connection string; overrides the configuration.") var postgres: String?
    @Option(help: "The image classifier to improve (default: selfTraining.model).") var model: String?
    @Option(help: "Folder with train/ and val/ (default: selfTraining.labeledData).") var data: String?
    @Option(help: "Share of train/ used as labels (default: selfTraining.labelFraction).") var labelFraction: Double?
    @Option(help: "Passes over the unlabeled pool (default: selfTraining.round.epochs).") var epochs: Int?
    @Option(help: "Most steps of the round (default: selfTraining.round.maxSteps).") var maxSteps: Int?
    @Option(help: "Peak learning rate (default: selfTraining.round.learningRate).") var learningRate: Float?
    @Option(help: "Seed of the round (default: selfTraining.round.seed).") var seed: UInt64?
    @Option(help: "Threads the tensor engine uses.") var threads = 2

    func validate() throws {
        guard now else { throw ValidationError("self-train runs a round only with --now") }
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let configuration = try options.load()
        var settings = configuration.selfTraining
        if let model { settings.model = model }
        if let data { settings.labeledData = data }
        if let labelFraction { settings.labelFraction = labelFraction }
        if let epochs { settings.round.epochs = epochs }
        if let maxSteps {
            settings.round.maxSteps = maxSteps
            settings.round.minSteps = min(settings.round.minSteps, maxSteps)
        }
        if let learningRate { settings.round.learningRate = learningRate }
        if let seed { settings.round.seed = seed }
        guard !settings.labeledData.isEmpty else {
            throw ValidationError("no labeled data: give --data or set selfTraining.labeledData (a folder with train/ and val/)")
        }
        let conninfo = postgres ?? configuration.postgres.conninfo
        _ = try RegistryDatabase.connect(conninfo)
        let served = try Self.servedClassifier(named: settings.model, directory: configuration.models.directory)
        let log = StandardError()
        let trainer = try SelfTrainer.connected(settings: settings, group: configuration.kafka.groupID, conninfo: conninfo)
        guard let record = try trainer.runRound(trigger: .manual, served: served, progress: log.line) else {
            log.line("self-train: another instance of group \(configuration.kafka.groupID) is training \(settings.model); try again later")
            throw ExitCode(3)
        }
        print("self-train: \(record.decision) \(record.candidateVersion ?? "-") (teacher \(record.teacherVersion)): \(record.reason)")
        print(String(format: "self-train: %d labeled, %d unlabeled images, %.0f s", record.labeledImages, record.unlabeledImages,
                     record.seconds))
    }

    /// The classifier of that name in the models folder, with its gate (the registry's version
    /// wins if it has one).
    static func servedClassifier(named name: String, directory: String) throws -> GatedClassifier {
        let folder = directory.isEmpty ? ModelStore.defaultDirectory() : URL(filePath: directory)
        guard let classifier = try ModelStore.gatedClassifiers(at: folder).first(where: { $0.name == name }) else {
            throw CommandFailure("\(folder.path) holds no image classifier named \(name)")
        }
        return classifier
    }
}
