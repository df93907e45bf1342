import ArgumentParser
import Foundation
import Reports
import Summarization

struct EvaluateSummarizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-summarizer",
        abstract: "ROUGE-1/2/L F1 of FINDINGS → IMPRESSION on the fixed test split: the baselines to beat.",
        discussion: """
            Reports with both sections; ids divisible by 5 are the test split, the rest train the
            baselines. ROUGE is F1, stemmed, exactly as Google's rouge-score computes it (checked
            against it by the tests). Baselines: the most frequent training impression for every
            report, and the impression of the training report whose findings are nearest by TF-IDF.
            """)

    @Option(help: "Folder of IU XML reports.") var reports: String

    func run() throws {
        let (training, test) = try ReportSplit.pairs(in: requireFolder(URL(filePath: reports)))
        print("summarizer evaluation: \(training.count) training and \(test.count) test reports with both sections")
        print("| system | ROUGE-1 | ROUGE-2 | ROUGE-L |")
        print("|---|---|---|---|")
        let frequent = SummaryBaselines.mostFrequentImpression(training)
        report("most frequent impression (\"\(frequent)\")", test.map { Rouge.scores(reference: $0.impression, prediction: frequent) })
        let nearest = SummaryBaselines.NearestFindings(training)
        report("impression of the nearest findings (TF-IDF)",
               test.map { Rouge.scores(reference: $0.impression, prediction: nearest.impression(for: $0.findings)) })
    }

    private func report(_ name: String, _ scores: [Rouge.Scores]) {
        let mean = Rouge.mean(scores)
        print(String(format: "| %@ | %.3f | %.3f | %.3f |", name, mean.rouge1, mean.rouge2, mean.rougeL))
    }
}
