import ArgumentParser
import Foundation
import Models
import Reports
import Summarization
import TensorEngine

struct TrainSummarizerRerankerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summarizer-reranker",
        abstract: "Fit the summarizer's reranker by cross-validation and write it beside the model, with the figures.",
        discussion: """
            The reranker chooses a report's impression among the summarizer's own \
            (greedy; --beam-width for beam search) and the impressions of the reports whose FINDINGS are nearest in a memory of earlier \
            reports. It is fitted on candidates the models never saw: --folds-from DIR holds \
            fold-0 … fold-K−1, each trained by `train summarizer --fold F` without fold F (report id \
            modulo K); each fold is summarized by its own model with the other folds as its memory. \
            The cross-validation measures each fold with a reranker fitted on the other folds; the \
            one written is fitted on every fold. --model receives reranker.json, and its manifest \
            the cross-validation (every system per fold, mean ± standard deviation) and how it was made.

            Example: radstream train summarizer-reranker --reports ../shared/data/openi/reports --folds-from /tmp/cv --model models/summarizer
            """)

    @Option(help: "Folder of IU XML reports.") var reports: String
    @Option(help: "Folder of the folds' models (fold-0, fold-1, …).") var foldsFrom: String
    @Option(help: "The summarizer folder that receives reranker.json and the figures.") var model: String
    @Option(help: "Folds of the cross-validation.") var folds = 5
    @Option(help: "Nearest earlier reports whose impressions become candidates.") var neighbours = 20
    @Option(help: "Beam width of the summarizer's own candidate (0, the default: its greedy output, as the daemon decodes by default).") var beamWidth = 0
    @Option(help: "Threads the tensor engine uses.") var threads = 2
    @Option(help: "What chose a setting, as SETTING=WHAT (repeatable), recorded under the manifest's choices: for --neighbours, --beam-width and the memory's terms, which this command does not choose itself.")
    var chosenBy: [String] = []

    func validate() throws {
        guard chosenBy.allSatisfy({ $0.contains("=") }) else { throw ValidationError("--chosen-by takes SETTING=WHAT") }
        guard folds >= 2, neighbours > 0, beamWidth >= 0 else { throw ValidationError("--folds must be at least 2, --neighbours positive, --beam-width not negative (0: greedy)") }
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let commit = Provenance.commit()
        let log = StandardError()
        let directory = URL(filePath: model), foldModels = URL(filePath: foldsFrom)
        var manifest = try SummarizerManifest.read(from: directory)
        var summarizer = try Summarizer(contentsOf: directory)
        let pairs = try ReportSplit.allPairs(in: requireFolder(URL(filePath: reports)))
        log.line("fitting the reranker: \(pairs.count) reports with both sections, \(folds) folds, \(neighbours) neighbours, beam \(beamWidth)")
        var versions: [String] = []
        let result = try SummarizerCrossValidation.run(pairs, folds: ReportFolds(count: folds), neighbours: neighbours, beamWidth: beamWidth,
                                                       summarizer: { fold in
            let loaded = try Summarizer(contentsOf: foldModels.appending(path: "fold-\(fold)"))
            versions.append("fold-\(fold): \(loaded.version)")
            return loaded
        }, progress: log.line)
        printCrossValidation(result)
        summarizer.reranker = result.reranker
        try result.reranker.write(to: directory.appending(path: Summarizer.rerankerFileName))
        manifest.reranker = .init(command: Provenance.command, commit: commit, createdAt: Date().formatted(.iso8601), foldModels: versions,
                                  crossValidation: result)
        var choices = manifest.choices ?? [:]
        choices["rerankerWeights"] = "fitted on out-of-fold candidates: each fold's on the other \(folds - 1) folds (the cross-validation's figures), the shipped ones on all \(folds)"
        for entry in chosenBy {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            choices[parts[0]] = parts[1]
        }
        manifest.choices = choices
        try manifest.write(to: directory)
        log.line("wrote \(directory.appending(path: Summarizer.rerankerFileName).path) and the cross-validation into its manifest")
    }
}
