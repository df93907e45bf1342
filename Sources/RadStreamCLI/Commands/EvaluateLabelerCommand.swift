import ArgumentParser
import Foundation
import Models
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
            --folds K measures every report instead, fold by fold (report id modulo K, as the \
            summarizer's cross-validation; the labeler learns nothing, so this is the spread of one \
            set of rules over K samples of reports). Micro-F1 is given over all 14 observations and \
            over the 13 findings (No Finding left out). MeSH has no uncertainty, so the last \
            column reads uncertain as positive for the observations where that raised F1 on other \
            reports (CheXpert's U-Ones for those, U-Zeros for the rest): chosen on the development \
            split for the test split, on the other folds for each fold. --disagreements N prints N \
            seeded random disagreements to read by hand.

            Example: radstream evaluate-labeler --reports ../shared/data/openi/reports --split test
            Example: radstream evaluate-labeler --reports ../shared/data/openi/reports --folds 5
            """)

    @Option(help: "Folder of IU XML reports.") var reports: String
    @Option(help: "test, development or all.") var split = "test"
    @Option(help: "Measure every report fold by fold (report id modulo this).") var folds: Int?
    @Option(help: "Disagreements to print.") var disagreements = 0
    @Flag(help: "Print the figures as one JSON document instead of tables.") var json = false

    /// What `--json` prints: per split (or per fold), each observation's counts and F1s, and the micro-F1s.
    struct Measured: Encodable {
        struct Figures: Encodable {
            let meshPositives: Int, labelerPositives: Int, precision: Double, recall: Double
            let f1: Double, f1UncertainPositive: Double, f1UncertainAsChosen: Double
        }
        let reports: Int
        let uncertainReadAsPositive: [String]
        let observations: [String: Figures]
        let microF1: Double, findingsMicroF1: Double, microF1AsChosen: Double, findingsMicroF1AsChosen: Double

        init(_ evaluation: LabelerEvaluation, reading: Set<Observation>) {
            let chosen = evaluation.counts(uncertainAsPositive: reading)
            reports = evaluation.reports
            uncertainReadAsPositive = reading.sorted().map(\.rawValue)
            observations = Dictionary(uniqueKeysWithValues: Observation.allCases.map { observation in
                let c = evaluation.strict[observation] ?? .init(), loose = evaluation.loose[observation] ?? .init()
                return (observation.rawValue, Figures(meshPositives: c.truePositive + c.falseNegative, labelerPositives: c.truePositive + c.falsePositive,
                                                      precision: c.precision, recall: c.recall, f1: c.f1, f1UncertainPositive: loose.f1,
                                                      f1UncertainAsChosen: chosen[observation]!.f1))
            })
            let read = evaluation.microF1(uncertainAsPositive: reading)
            (microF1, findingsMicroF1, microF1AsChosen, findingsMicroF1AsChosen) = (evaluation.microF1, evaluation.findingsMicroF1, read.all, read.findings)
        }
    }

    func validate() throws {
        guard ["test", "development", "all"].contains(split) else { throw ValidationError("--split is test, development or all") }
        if let folds { guard folds >= 2 else { throw ValidationError("--folds must be at least 2") } }
        guard disagreements >= 0 else { throw ValidationError("--disagreements must not be negative") }
    }

    func run() throws {
        let folder = try requireFolder(URL(filePath: reports))
        let labeler = ReportLabeler()
        if let folds { return try runFolds(folds, folder: folder, labeler: labeler) }
        let evaluation = try LabelerEvaluation.measure(folder: folder, labeler: labeler) { split == "all" || ReportSplit.isTest($0) == (split == "test") }
        // How uncertain reads is chosen on the development split; measuring it there too is in-sample, and said so.
        let chooser = split == "test" ? try LabelerEvaluation.measure(folder: folder, labeler: labeler) { !ReportSplit.isTest($0) } : evaluation
        let reading = chooser.uncertainReadAsPositive
        if json {
            struct Split: Encodable { let labeler: String, split: String, readingChosenOn: String, measured: Measured }
            return try JSONOutput.print(Split(labeler: ReportLabeler.version, split: split,
                                              readingChosenOn: split == "test" ? "development" : split, measured: Measured(evaluation, reading: reading)))
        }
        print("labeler \(ReportLabeler.version) against MeSH/major, \(split) split: \(evaluation.reports) reports")
        print("uncertain read as positive for \(reading.sorted().map(\.rawValue).joined(separator: ", ")) "
              + (split == "test" ? "(chosen on the development split)" : "(chosen on these same reports: in-sample)"))
        print("| observation | MeSH positives | labeler positives | precision | recall | F1 | F1 (uncertain counted positive) | F1 (uncertain read as chosen) |")
        print("|---|---|---|---|---|---|---|---|")
        let chosen = evaluation.counts(uncertainAsPositive: reading)
        for observation in Observation.allCases {
            let c = evaluation.strict[observation] ?? .init(), loose = evaluation.loose[observation] ?? .init()
            print(String(format: "| %@ | %d | %d | %.3f | %.3f | %.3f | %.3f | %.3f |", observation.rawValue, c.truePositive + c.falseNegative,
                         c.truePositive + c.falsePositive, c.precision, c.recall, c.f1, loose.f1, chosen[observation]!.f1))
        }
        let read = evaluation.microF1(uncertainAsPositive: reading)
        print(String(format: "| micro, all 14 | | | | | %.3f | | %.3f |", evaluation.microF1, read.all))
        print(String(format: "| micro, the 13 findings | | | | | %.3f | | %.3f |", evaluation.findingsMicroF1, read.findings))
        printDisagreements(evaluation)
    }

    private func runFolds(_ count: Int, folder: URL, labeler: ReportLabeler) throws {
        let assignment = ReportFolds(count: count)
        let evaluations = try (0..<count).map { fold in
            try LabelerEvaluation.measure(folder: folder, labeler: labeler) { assignment.fold(of: $0) == fold }
        }
        if json {
            struct Folds: Encodable { let labeler: String, folds: [Measured] }
            let measured = (0..<count).map { fold in
                Measured(evaluations[fold], reading: evaluations.indices.filter { $0 != fold }
                    .reduce(into: LabelerEvaluation()) { $0.merge(evaluations[$1]) }.uncertainReadAsPositive)
            }
            return try JSONOutput.print(Folds(labeler: ReportLabeler.version, folds: measured))
        }
        func spread(_ values: [Double]) -> String {
            let spread = FoldSpread(values)
            return String(format: "%.3f ± %.3f", spread.mean, spread.standardDeviation)
        }
        print("labeler \(ReportLabeler.version) against MeSH/major, \(count) folds of \(evaluations.map { String($0.reports) }.joined(separator: ", ")) reports")
        print("| observation | MeSH positives | F1 | F1 (uncertain counted positive) | " + (0..<count).map { "fold \($0)" }.joined(separator: " | ") + " |")
        print("|---|---|---|---|" + String(repeating: "---|", count: count))
        for observation in Observation.allCases {
            let strict = evaluations.map { ($0.strict[observation] ?? .init()).f1 }, loose = evaluations.map { ($0.loose[observation] ?? .init()).f1 }
            let support = evaluations.reduce(0) { $0 + ($1.strict[observation].map { $0.truePositive + $0.falseNegative } ?? 0) }
            print("| \(observation.rawValue) | \(support) | \(spread(strict)) | \(spread(loose)) | "
                  + strict.map { String(format: "%.3f", $0) }.joined(separator: " | ") + " |")
        }
        for (name, values) in [("micro, all 14", evaluations.map(\.microF1)), ("micro, the 13 findings", evaluations.map(\.findingsMicroF1))] {
            print("| \(name) | | \(spread(values)) | | " + values.map { String(format: "%.3f", $0) }.joined(separator: " | ") + " |")
        }
        // Each fold with uncertain read as the other folds choose.
        let readings = (0..<count).map { fold in
            evaluations.indices.filter { $0 != fold }.reduce(into: LabelerEvaluation()) { $0.merge(evaluations[$1]) }.uncertainReadAsPositive
        }
        let read = zip(evaluations, readings).map { $0.microF1(uncertainAsPositive: $1) }
        for (name, values) in [("micro, all 14, uncertain read as the other folds chose", read.map(\.all)),
                               ("micro, the 13 findings, uncertain read as the other folds chose", read.map(\.findings))] {
            print("| \(name) | | \(spread(values)) | | " + values.map { String(format: "%.3f", $0) }.joined(separator: " | ") + " |")
        }
        for (fold, reading) in readings.enumerated() {
            print("fold \(fold): uncertain read as positive for \(reading.sorted().map(\.rawValue).joined(separator: ", "))")
        }
        printDisagreements(evaluations.reduce(into: LabelerEvaluation()) { $0.merge($1) })
    }

    private func printDisagreements(_ evaluation: LabelerEvaluation) {
        var generator = SeededGenerator(seed: 11)
        for miss in evaluation.disagreements.shuffled(using: &generator).prefix(disagreements) {
            print("\n\(miss.reportID) \(miss.observation.rawValue): labeler \(miss.status.rawValue); MeSH \(miss.mesh)\n  \(miss.text)")
        }
    }
}
