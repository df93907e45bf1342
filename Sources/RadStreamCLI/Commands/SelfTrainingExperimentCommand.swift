import ArgumentParser
import Foundation
import Harness
import TensorEngine

struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Experiments that measure what RadStream's models gain, reproducible by one command.",
        subcommands: [SelfTrainingExperimentCommand.self, DiffusionExperimentCommand.self])
}

/// Few labels, then the rest of the images unlabeled through the daemon: does self-training in
/// the stream climb toward the model trained on every label?
struct SelfTrainingExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "self-training",
        abstract: "Start from a few labels, stream the rest unlabeled through the daemon, and measure each self-training round.",
        discussion: """
            For each label fraction (5% and 10% by default): trains the classifier on that share of \
            PneumoniaMNIST train/ exactly as `train classifier --label-fraction F` does (seed 1); \
            starts the daemon (`serve`, a child process) on the embedded broker and a private \
            PostgreSQL with that model and self-training on (the same labels, selfTraining.labelFraction \
            F); sends the rest of train/ as image events without labels (as `replay --withhold-labels` \
            makes them) in --chunks chunks, each making one round due (selfTraining.newImages is the \
            chunk size); after each round, reads its record: the candidate's AUC and accuracy on \
            val/, the gate's decision, and the served model's figures. Beside them: the model of that \
            fraction alone, and the shipped model, trained by the same recipe on every label. \
            Prints a Markdown table; --out writes the rows as JSON.

            Example: radstream experiment self-training --label-fractions 0.05,0.10
            """)

    @Option(help: "PneumoniaMNIST folder (train/ and val/).") var data = "../shared/data/pneumoniamnist"
    @Option(help: "Label fractions, comma-separated.") var labelFractions = "0.05,0.10"
    @Option(help: "Chunks the unlabeled rest is streamed in: one round each.") var chunks = 3
    @Option(help: "Share of a core a round may take in the daemon (the stream is idle while it trains).") var cpuShare = 1.0
    @Option(help: "Where the experiment keeps its PostgreSQL cluster, models and logs (recreated).") var workDir = "var/experiment"
    @Option(help: "Write the rows as JSON to this file.") var out: String?
    @Option(help: "Threads the tensor engine uses for the baselines.") var threads = 2

    func validate() throws {
        guard fractions != nil else { throw ValidationError("--label-fractions must be numbers in (0, 1), e.g. 0.05,0.10") }
        guard chunks >= 1 else { throw ValidationError("--chunks must be at least 1") }
        guard cpuShare > 0, cpuShare <= 1 else { throw ValidationError("--cpu-share must be in (0, 1]") }
    }

    private var fractions: [Double]? {
        let values = labelFractions.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        return !values.isEmpty && values.allSatisfy({ $0 > 0 && $0 < 1 }) ? values : nil
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let log = StandardError()
        let rows = try SelfTrainingExperiment(options: .init(
            data: URL(filePath: data).standardizedFileURL, fractions: fractions!, chunks: chunks, cpuShare: cpuShare,
            workDir: URL(filePath: workDir).standardizedFileURL, binary: Provenance.binary)).run(log: log.line)
        print("| labels | model | unlabeled images seen | AUC | accuracy | ECE | gate | served AUC | served accuracy |")
        print("|---|---|---|---|---|---|---|---|---|")
        for row in rows {
            func figure(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "" }
            print("| \(row.labels) | \(row.model) | \(row.unlabeledImages.map(String.init) ?? "") | \(figure(row.auc)) | "
                  + "\(figure(row.accuracy)) | \(figure(row.expectedCalibrationError)) | \(row.decision ?? "") | "
                  + "\(figure(row.servedAUC)) | \(figure(row.servedAccuracy)) |")
        }
        if let out {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(rows).write(to: URL(filePath: out))
        }
    }
}
