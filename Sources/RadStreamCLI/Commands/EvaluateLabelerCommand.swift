import ArgumentParser
import Foundation
import Replay
import Reports
import TensorEngine

struct EvaluateLabelerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-labeler",
        abstract: "Measure the report labeler against the IU reports' manual MeSH terms: per-observation F1.",
        discussion: """
            Each IU report's MeSH/major terms name observations (the mapping is in \
            Sources/Reports/Labeling/MeSHObservations.swift); MeSH lists only what is present, so an \
            observation counts as present when MeSH names it and predicted when the labeler says \
            positive (and, in the second F1, positive or uncertain). The split is fixed by report id: \
            ids divisible by 5 are the test split (rules were written looking at the others). \
            --disagreements N prints N seeded random disagreements to read by hand.

            Example: radstream evaluate-labeler --reports ../shared/data/openi/reports --split test
            """)

    @Option(help: "Folder of IU XML reports.") var reports: String
    @Option(help: "test, development or all.") var split = "test"
    @Option(help: "Disagreements to print.") var disagreements = 0

    func validate() throws {
        guard ["test", "development", "all"].contains(split) else { throw ValidationError("--split is test, development or all") }
    }

    struct Counts { var truePositive = 0, falsePositive = 0, falseNegative = 0, loosePositive = 0, looseFalsePositive = 0 }

    func run() throws {
        let labeler = ReportLabeler()
        var counts: [Observation: Counts] = [:]
        var reportsUsed = 0
        var misses: [(id: String, observation: Observation, status: ObservationStatus, mesh: [String], text: String)] = []
        for file in try ReplaySource.reportFiles(in: requireFolder(URL(filePath: reports))) where file.pathExtension == "xml" {
            let id = file.deletingPathExtension().lastPathComponent
            guard Int(id) != nil, split == "all" || ReportSplit.isTest(id) == (split == "test") else { continue }
            guard let report = try? IUReport.parse([UInt8](Data(contentsOf: file))),
                  report.sections.findings != nil || report.sections.impression != nil else { continue }
            reportsUsed += 1
            let present = MeSHObservations.observations(in: report.meshMajor)
            let labels = labeler.label(report.sections)
            for observation in Observation.allCases {
                let status = labels[observation]!, truth = present.contains(observation)
                var c = counts[observation] ?? Counts()
                switch (status == .positive, truth) {
                case (true, true): c.truePositive += 1
                case (true, false): c.falsePositive += 1
                case (false, true): c.falseNegative += 1
                case (false, false): break
                }
                if status >= .uncertain { if truth { c.loosePositive += 1 } else { c.looseFalsePositive += 1 } }
                counts[observation] = c
                if (status == .positive) != truth {
                    misses.append((id, observation, status, report.meshMajor,
                                   [report.sections.findings, report.sections.impression].compactMap { $0 }.joined(separator: " | ")))
                }
            }
        }
        func f1(_ tp: Int, _ fp: Int, _ fn: Int) -> Double { tp == 0 ? 0 : 2 * Double(tp) / Double(2 * tp + fp + fn) }
        print("labeler \(ReportLabeler.version) against MeSH/major, \(split) split: \(reportsUsed) reports")
        print("| observation | MeSH positives | labeler positives | precision | recall | F1 | F1 (uncertain counted positive) |")
        print("|---|---|---|---|---|---|---|")
        var total = Counts()
        for observation in Observation.allCases {
            let c = counts[observation] ?? Counts()
            let support = c.truePositive + c.falseNegative
            let precision = c.truePositive + c.falsePositive == 0 ? 0 : Double(c.truePositive) / Double(c.truePositive + c.falsePositive)
            let recall = support == 0 ? 0 : Double(c.truePositive) / Double(support)
            let loose = f1(c.loosePositive, c.looseFalsePositive, support - c.loosePositive)
            print(String(format: "| %@ | %d | %d | %.3f | %.3f | %.3f | %.3f |", observation.rawValue, support,
                         c.truePositive + c.falsePositive, precision, recall, f1(c.truePositive, c.falsePositive, c.falseNegative), loose))
            total.truePositive += c.truePositive
            total.falsePositive += c.falsePositive
            total.falseNegative += c.falseNegative
        }
        print(String(format: "| micro | | | | | %.3f | |", f1(total.truePositive, total.falsePositive, total.falseNegative)))
        var generator = SeededGenerator(seed: 11)
        for miss in misses.shuffled(using: &generator).prefix(disagreements) {
            print("\n\(miss.id) \(miss.observation.rawValue): labeler \(miss.status.rawValue); MeSH \(miss.mesh)\n  \(miss.text)")
        }
    }
}
