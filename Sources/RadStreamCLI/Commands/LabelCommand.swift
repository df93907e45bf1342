import ArgumentParser
import Foundation
import Replay
import Reports

struct LabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Label reports with the 14 CheXpert observations: positive, negative, uncertain or absent.",
        discussion: """
            Reads every *.xml (IU/OpenI) and *.txt file of a folder and writes one JSON line per file: \
            {"report_id": <file stem>, "labels": {"Atelectasis": "negative", …}} with all 14 \
            observations. The labeler reads the FINDINGS and IMPRESSION; it finds each observation's \
            mentions and synonyms and decides from the words around each whether it is negated \
            ("no pleural effusion") or uncertain ("may represent atelectasis"), as the CheXpert \
            labeler does. A report that cannot be read, or has neither section, gives \
            {"report_id": …, "error": …}; the exit status is non-zero only when nothing could be labelled.

            Example: radstream label --reports ../shared/data/openi/reports --out labels.jsonl
            """)

    @Option(help: "Folder of report files.") var reports: String
    @Option(help: "Output JSON Lines file ('-' for standard output).") var out: String

    struct Line: Encodable {
        let report_id: String
        var labels: [String: String]?
        var error: String?
    }

    func run() throws {
        let files = try ReplaySource.reportFiles(in: requireFolder(URL(filePath: reports)))
        let writer = try JSONLinesWriter(path: out)
        let labeler = ReportLabeler()
        var succeeded = 0
        for file in files {
            let id = file.deletingPathExtension().lastPathComponent
            do {
                let sections = try ReportReader.sections(of: Array(try Data(contentsOf: file)), format: ReportFormat(fileName: file.lastPathComponent))
                guard sections.findings != nil || sections.impression != nil else {
                    throw CommandFailure("the report has neither FINDINGS nor IMPRESSION to label")
                }
                let labels = labeler.label(sections)
                try writer.write(Line(report_id: id, labels: Dictionary(uniqueKeysWithValues: labels.map { ($0.key.rawValue, $0.value.rawValue) })))
                succeeded += 1
            } catch {
                try writer.write(Line(report_id: id, error: "\(error)"))
            }
        }
        try writer.close()
        StandardError().line("label: \(succeeded) of \(files.count) reports (labeler \(ReportLabeler.version))")
        if succeeded == 0 { throw ExitCode.failure }
    }
}
