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
            For each label fraction, the same stratified, seeded labelled films train the joint model \
            (denoising every training film, the head on the labelled ones), the same U-Net encoder \
            and head on the labelled films alone (same labelled batches, no denoising) and the \
            residual CNN; each is calibrated on a tenth of the labelled films kept back and measured \
            on val (AUC and accuracy with bootstrap intervals). With --folds K, the same in k-fold \
            cross-validation over train instead (trained on the other folds, measured on the one \
            left out; patients never split), with each model's mean and spread over the folds and \
            its AUC above the others' on the same folds. Prints tables; --json FILE writes the rows. \
            Long: at the default 30 epochs, about 25 minutes per joint model on two cores; folds \
            multiply that by K (less (K-1)/K of the films to learn from).

            Example: radstream experiment diffusion-ssl --label-fractions 0.05,0.2 --folds 3 --epochs 10
            """)

    @Option(help: "PneumoniaMNIST folder.") var data = "../shared/data/pneumoniamnist"
    @Option(help: "Label fractions, comma-separated.") var labelFractions = "0.01,0.05,0.2,1.0"
    @Option(help: "Epochs of the joint and supervised encoder models.") var epochs = JointDiffusionOptions().epochs
    @Option(help: "Seed of initialisation, batching and the label share.") var seed: UInt64 = 1
    @Option(help: "Cross-validate over train with this many folds (at least 2) instead of measuring on val.") var folds: Int?
    @Option(help: "Write the rows (and, with --folds, the summary) as JSON here.") var json: String?
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
        if let folds, folds < 2 { throw ValidationError("--folds must be at least 2") }
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let loaded = try TrainingData.load(data, side: 28)
        var options = JointDiffusionOptions()
        options.epochs = epochs
        options.seed = seed
        var classifierOptions = ClassifierTrainingOptions()
        classifierOptions.seed = seed
        let log = StandardError()
        let experiment = SemiSupervisedExperiment(options: options, classifierOptions: classifierOptions)
        let rows: [SemiSupervisedExperiment.Row]
        if let folds {
            rows = try experiment.crossValidate(name: loaded.name, training: loaded.training, folds: folds, fractions: fractions!,
                                                progress: log.line)
        } else {
            rows = try experiment.run(name: loaded.name, training: loaded.training, validation: loaded.validation,
                                      fractions: fractions!, progress: log.line)
        }
        print("| labels | model | measured on | labelled films | AUC (95% interval) | accuracy (95% interval) | s |")
        print("|---|---|---|---|---|---|---|")
        for row in rows {
            let v = row.evaluation
            let measured = row.fold.map { "fold \($0) (\(v.images))" } ?? "val (\(v.images))"
            print(String(format: "| %g%% | %@ | %@ | %d | %.4f [%.4f, %.4f] | %.4f [%.4f, %.4f] | %.0f |", row.labelFraction * 100, row.model,
                         measured, row.labelledImages, v.auc, v.aucInterval?[0] ?? .nan, v.aucInterval?[1] ?? .nan, v.accuracy,
                         v.accuracyInterval?[0] ?? .nan, v.accuracyInterval?[1] ?? .nan, row.seconds))
        }
        let summaries = SemiSupervisedExperiment.summarize(rows)
        if !summaries.isEmpty {
            print("\n| labels | model | folds | AUC mean ± sd | accuracy mean ± sd | AUC above the others, same folds (mean ± sd) |")
            print("|---|---|---|---|---|---|")
            for summary in summaries {
                let above = SemiSupervisedExperiment.models.compactMap { other in
                    summary.aucAbove[other].map { String(format: "%@: %+.4f ± %.4f", other, $0.mean, $0.standardDeviation) }
                }
                print(String(format: "| %g%% | %@ | %d | %.4f ± %.4f | %.4f ± %.4f | %@ |", summary.labelFraction * 100, summary.model,
                             summary.folds, summary.auc.mean, summary.auc.standardDeviation, summary.accuracy.mean,
                             summary.accuracy.standardDeviation, above.joined(separator: "; ")))
            }
        }
        if let json {
            struct Written: Encodable { let rows: [SemiSupervisedExperiment.Row]; let summary: [SemiSupervisedExperiment.Summary] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(Written(rows: rows, summary: summaries)).write(to: URL(filePath: json))
        }
    }
}
