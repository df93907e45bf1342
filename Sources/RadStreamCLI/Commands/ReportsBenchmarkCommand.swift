import ArgumentParser
import Foundation
import Models
import Reports
import Summarization
import TensorEngine

struct ReportsBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reports",
        abstract: "Measure reports/s of the labeler and of the summarizer (greedy and beam).",
        discussion: """
            The IU test-split reports (ids divisible by 5) with FINDINGS, read into memory first. The \
            labeler reads findings and impression, each pass with a fresh labeler (sentences \
            repeated within the reports are read once), then again with every sentence read \
            before; the summarizer writes an impression from the \
            findings, greedy in batches of 32, or by beam search or minimum Bayes risk one report \
            at a time; either way on every core, as the daemon does. With the reranker (when the \
            summarizer has one), greedy again with a memory of the other IU reports (those not in \
            the test split): candidates, their likelihoods and the choice. Every pass starts with \
            nothing memoised (findings repeated within the reports are worked out once, as in the \
            daemon); the memoised figure is a pass over reports whose every findings text was read \
            before. The daemon's report events/s with both on: `radstream benchmark stream \
            --scenarios reports`.

            Example: radstream benchmark reports
            """)

    @Option(help: "The shared data folder.") var data = ProcessInfo.processInfo.environment["RADSTREAM_DATA"] ?? "../shared/data"
    @Option(help: "Summarizer folder (default: the shipped one).") var model: String?
    @Option(help: "Seconds per figure.") var seconds = 5.0
    @Option(help: "Beam width of the beam figure.") var beamWidth = 4
    @Option(help: "Samples of the minimum-Bayes-risk figure.") var samples = 16
    @Option(help: "Threads the tensor engine uses.") var threads = 2
    @Flag(help: "Print the figures as one JSON document (progress to standard error) instead of tables.") var json = false

    func run() throws {
        EngineWorkers.setCount(threads)
        let summarizer = try Summarizer(contentsOf: model.map { URL(filePath: $0) } ?? ModelStore.defaultDirectory().appending(path: "summarizer"))
        let (_, test) = try ReportSplit.pairs(in: URL(filePath: data).appending(path: "openi/reports"))
        let sections = test.map { ReportSections(findings: $0.findings, impression: $0.impression) }
        let findings = test.map(\.findings)
        let report = TablesOutput("reports benchmark: \(test.count) IU test reports, labeler \(ReportLabeler.version), summarizer \(summarizer.version), \(threads) engine threads", json: json)
        report.table(["step", "reports/s"])
        // Each pass with a fresh labeler: its memo of sentences holds only what the pass has read.
        report.row(["labeler (findings and impression)", "\(Int(rate(sections.count) { let labeler = ReportLabeler(); for s in sections { _ = labeler.label(s) } }))"])
        let labeler = ReportLabeler()
        for s in sections { _ = labeler.label(s) }
        report.row(["the same, every sentence read before (memoised)", "\(Int(rate(sections.count) { for s in sections { _ = labeler.label(s) } }))"])
        report.row(["summarizer, greedy, batches of 32", String(format: "%.1f", rate(findings.count) { _ = summarizer.withEmptyMemo().summarize(findings) })])
        if let reranker = summarizer.reranker {
            let memory = ReportMemory(try ReportSplit.pairs(in: URL(filePath: data).appending(path: "openi/reports")).training)
            let ids = test.map { Optional($0.reportID) }
            report.row(["summarizer, greedy, reranked with a memory of \(memory.entries.count) reports (\(reranker.neighbours) neighbours)",
                        String(format: "%.1f", rate(findings.count) {
                            _ = summarizer.withEmptyMemo().summarize(findings, decoding: .greedy, memory: memory, reranker: reranker, excluding: ids)
                        })])
            _ = summarizer.summarize(findings, decoding: .greedy, memory: memory, reranker: reranker, excluding: ids)
            report.row(["the same, every findings text read before (memoised)",
                        String(format: "%.1f", rate(findings.count) { _ = summarizer.summarize(findings, decoding: .greedy, memory: memory, reranker: reranker, excluding: ids) })])
        }
        let few = Array(findings.prefix(64))
        report.row(["summarizer, beam \(beamWidth), one report per core", String(format: "%.1f", rate(few.count) { _ = summarizer.withEmptyMemo().summarize(few, decoding: .beam(width: beamWidth)) })])
        report.row(["summarizer, MBR over greedy + \(samples) samples", String(format: "%.1f", rate(few.count) { _ = summarizer.withEmptyMemo().summarize(few, decoding: .minimumBayesRisk(samples: samples)) })])
        try report.finish()
    }

    private func rate(_ reportsPerCall: Int, _ body: () -> Void) -> Double {
        BenchmarkClock.callsPerSecond(for: seconds, body) * Double(reportsPerCall)
    }
}
