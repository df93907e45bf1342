import ArgumentParser
import Foundation
import Models
import Reports
import Summarization
import TensorEngine

struct EvaluateSummarizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-summarizer",
        abstract: "ROUGE-1/2/L F1 of FINDINGS → IMPRESSION on the fixed test split: the summarizer beside the baselines.",
        discussion: """
            Reports with both sections; ids divisible by 5 are the test split, the rest train the \
            baselines. ROUGE is F1, stemmed, exactly as Google's rouge-score computes it (checked \
            against it by the tests). Baselines: the most frequent training impression for every \
            report, and the impression of the training report whose findings are nearest by TF-IDF. \
            The summarizer (the shipped one unless --model says otherwise) is measured greedy, with \
            beam search and with minimum-Bayes-risk decoding; --baselines-only skips it.

            --cross-validate DIR measures by k-fold cross-validation over every report with both \
            sections instead: DIR/fold-F holds the model `train summarizer --fold F` trained without \
            fold F (report id modulo --folds); fold F is summarized by its own model with a memory of \
            the other folds' reports, and the reranker that chooses among the candidates (the beam's \
            output and the nearest reports' impressions) is fitted on the other folds. Printed: each \
            fold and the mean ± standard deviation of every system; --json writes it all, --candidates \
            every report's candidates. (`train summarizer-reranker` fits the reranker that ships.)

            Example: radstream evaluate-summarizer --reports ../shared/data/openi/reports
            Example: radstream evaluate-summarizer --reports ../shared/data/openi/reports --cross-validate /tmp/cv --json cv.json
            """)

    @Option(help: "Folder of IU XML reports.") var reports: String
    @Option(help: "test (ids divisible by 5), or validation (ids equal to 1 modulo 20, what training chooses its epoch on; the baselines then see the other training reports).")
    var split = Split.test

    enum Split: String, ExpressibleByArgument, CaseIterable {
        case test, validation
    }
    @Option(help: "Summarizer folder (default: the shipped one).") var model: String?
    @Flag(help: "Only the baselines.") var baselinesOnly = false
    @Option(help: "Beam width of the beam row.") var beamWidth = 4
    @Option(help: "Samples of the minimum-Bayes-risk row.") var samples = 16
    @Option(help: "Threads the tensor engine uses.") var threads = 2
    @Option(help: "Folder of the folds' models (fold-0, fold-1, …): measure by cross-validation.") var crossValidate: String?
    @Option(help: "Folds of the cross-validation.") var folds = 5
    @Option(help: "Only these folds, separated by ',' (a partial run while the others train).") var onlyFolds: String?
    @Option(help: "Nearest earlier reports whose impressions become candidates.") var neighbours = 10
    @Option(help: "Write the cross-validation's figures to this JSON file.") var json: String?
    @Option(help: "Write every held-out report's candidates (text, features, ROUGE-L) to this JSON Lines file.") var candidates: String?

    struct CandidateLine: Encodable {
        struct Scored: Encodable {
            let text: String
            let features: CandidateFeatures
            let rougeL: Double
        }
        let fold: Int
        let report_id: String
        let reference: String
        let candidates: [Scored]
    }

    func validate() throws {
        guard beamWidth > 0 || crossValidate != nil, beamWidth >= 0, samples >= 0, neighbours > 0, folds >= 2 else {
            throw ValidationError("--beam-width must be positive (0: greedy, with --cross-validate), --neighbours positive, --samples not negative, --folds at least 2")
        }
        if crossValidate == nil, json != nil || candidates != nil {
            throw ValidationError("--json and --candidates need --cross-validate")
        }
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        if let crossValidate { return try runCrossValidation(models: URL(filePath: crossValidate)) }
        var (training, test) = try ReportSplit.pairs(in: requireFolder(URL(filePath: reports)))
        if split == .validation {
            test = training.filter { ReportSplit.isValidation($0.reportID) }
            training = training.filter { !ReportSplit.isValidation($0.reportID) }
        }
        print("summarizer evaluation: \(training.count) training and \(test.count) \(split.rawValue) reports with both sections")
        print("| system | ROUGE-1 | ROUGE-2 | ROUGE-L |")
        print("|---|---|---|---|")
        let baselines = SummarizerEvaluation.baselines(training: training, test: test)
        row("most frequent impression (\"\(SummaryBaselines.mostFrequentImpression(training))\")", baselines["mostFrequentImpression"]!)
        row("impression of the nearest findings (TF-IDF)", baselines["nearestFindingsTFIDF"]!)
        row("impression of the nearest findings (TF-IDF of words and word pairs)", baselines["nearestFindingsTFIDFWordPairs"]!)
        guard !baselinesOnly else { return }
        let summarizer = try Summarizer(contentsOf: model.map { URL(filePath: $0) } ?? ModelStore.defaultDirectory().appending(path: "summarizer"))
        for decoding in [Summarizer.Decoding.greedy, .beam(width: beamWidth), .minimumBayesRisk(samples: samples)] {
            row("summarizer \(summarizer.version), \(decoding)", SummarizerEvaluation.rouge(of: summarizer, on: test, decoding: decoding))
        }
    }

    private func runCrossValidation(models: URL) throws {
        let pairs = try ReportSplit.allPairs(in: requireFolder(URL(filePath: reports)))
        let log = StandardError()
        log.line("cross-validation: \(pairs.count) reports with both sections, \(folds) folds, \(neighbours) neighbours, beam \(beamWidth)")
        let writer = try candidates.map { try JSONLinesWriter(path: $0) }
        let measuring = try onlyFolds.map { list in
            try list.split(separator: ",").map { text in
                guard let fold = Int(text), (0..<folds).contains(fold) else { throw ValidationError("--only-folds: \(text) is not a fold of 0..<\(folds)") }
                return fold
            }
        }
        let result = try SummarizerCrossValidation.run(pairs, folds: ReportFolds(count: folds), measuring: measuring, neighbours: neighbours, beamWidth: beamWidth,
                                                       summarizer: { try Summarizer(contentsOf: models.appending(path: "fold-\($0)")) },
                                                       progress: log.line) { fold, pair, found in
            try writer?.write(CandidateLine(fold: fold, report_id: pair.reportID, reference: pair.impression, candidates: found.map {
                .init(text: $0.text, features: $0.features, rougeL: Rouge.scores(reference: pair.impression, prediction: $0.text).rougeL)
            }))
        }
        try writer?.close()
        printCrossValidation(result)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(filePath: json))
        }
    }

    private func row(_ name: String, _ mean: Rouge.Scores) {
        print(String(format: "| %@ | %.3f | %.3f | %.3f |", name, mean.rouge1, mean.rouge2, mean.rougeL))
    }
}
