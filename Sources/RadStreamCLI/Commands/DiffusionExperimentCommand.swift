import ArgumentParser
import Diffusion
import Foundation
import TensorEngine
import Training

struct DiffusionExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diffusion-ssl",
        abstract: "Semi-supervised classification: the joint diffusion model against the same encoder and the CNN on the same few labels.",
        discussion: """
            For each label fraction, the same stratified, seeded labelled films train the joint model
            (denoising every training film, the head on the labelled ones), the same U-Net encoder
            and head on the labelled films alone (same labelled batches, no denoising) and the
            residual CNN; each is calibrated on a tenth of the labelled films kept back and measured
            on val (AUC and accuracy with bootstrap intervals). Prints a table; --json FILE writes it.
            Long: at the default 30 epochs, about 25 minutes per joint model on two cores.
            """)

    @Option(help: "PneumoniaMNIST folder.") var data = "../shared/data/pneumoniamnist"
    @Option(help: "Label fractions, comma-separated.") var labelFractions = "0.01,0.05,0.2,1.0"
    @Option(help: "Epochs of the joint and supervised encoder models.") var epochs = JointDiffusionOptions().epochs
    @Option(help: "Seed of initialisation, batching and the label share.") var seed: UInt64 = 1
    @Option(help: "Write the rows as JSON here.") var json: String?
    @Option(help: "Threads the tensor engine uses.") var threads = 2

    private var fractions: [Double]? {
        let values = labelFractions.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        return values.contains(nil) || values.isEmpty ? nil : values.map { $0! }
    }

    func validate() throws {
        guard let fractions, fractions.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw ValidationError("--label-fractions must be shares in (0, 1], comma-separated")
        }
        guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
    }

    func run() throws {
        BLAS.setThreads(threads)
        let loaded = try TrainingData.load(data, side: 28)
        var options = JointDiffusionOptions()
        options.epochs = epochs
        options.seed = seed
        var classifierOptions = ClassifierTrainingOptions()
        classifierOptions.seed = seed
        let log = StandardError()
        let rows = try SemiSupervisedExperiment(options: options, classifierOptions: classifierOptions)
            .run(name: loaded.name, training: loaded.training, validation: loaded.validation, fractions: fractions!, progress: log.line)
        print("| labels | model | labelled films | AUC (95% interval) | accuracy (95% interval) | s |")
        print("|---|---|---|---|---|---|")
        for row in rows {
            let v = row.validation
            print(String(format: "| %g%% | %@ | %d | %.4f [%.4f, %.4f] | %.4f [%.4f, %.4f] | %.0f |", row.labelFraction * 100, row.model,
                         row.labelledImages, v.auc, v.aucInterval?[0] ?? .nan, v.aucInterval?[1] ?? .nan, v.accuracy,
                         v.accuracyInterval?[0] ?? .nan, v.accuracyInterval?[1] ?? .nan, row.seconds))
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(rows).write(to: URL(filePath: json))
        }
    }
}
