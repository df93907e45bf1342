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

            Example: radstream evaluate-summarizer --reports ../shared/data/openi/reports
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

    func run() throws {
        BLAS.setThreads(threads)
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
        guard !baselinesOnly else { return }
        let summarizer = try Summarizer(contentsOf: model.map { URL(filePath: $0) } ?? ModelStore.defaultDirectory().appending(path: "summarizer"))
        for decoding in [Summarizer.Decoding.greedy, .beam(width: beamWidth), .minimumBayesRisk(samples: samples)] {
            row("summarizer \(summarizer.version), \(decoding)", SummarizerEvaluation.rouge(of: summarizer, on: test, decoding: decoding))
        }
    }

    private func row(_ name: String, _ mean: Rouge.Scores) {
        print(String(format: "| %@ | %.3f | %.3f | %.3f |", name, mean.rouge1, mean.rouge2, mean.rougeL))
    }
}
