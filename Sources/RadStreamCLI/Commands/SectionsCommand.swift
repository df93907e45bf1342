import ArgumentParser
import Foundation
import Replay
import Reports

struct SectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sections",
        abstract: "Split reports into FINDINGS, IMPRESSION, INDICATION, COMPARISON (and TECHNIQUE).",
        discussion: """
            Reads every *.xml (IU/OpenI) and *.txt (free text) file of a folder and writes one JSON \
            line per file: {"report_id": <file stem>, "sections": {...}}, absent sections omitted. \
            A file that cannot be read gives {"report_id": ..., "error": ...} and the command goes on; \
            the exit status is non-zero only when no file could be processed.

            Example: radstream sections --reports ../shared/data/openi/reports --out sections.jsonl
            """)

    @Option(help: "Folder of report files.") var reports: String
    @Option(help: "Output JSON Lines file ('-' for standard output).") var out: String

    struct Line: Encodable {
        let report_id: String
        var sections: ReportSections?
        var error: String?
    }

    func run() throws {
        let files = try ReplaySource.reportFiles(in: requireFolder(URL(filePath: reports)))
        let writer = try JSONLinesWriter(path: out)
        var succeeded = 0
        for file in files {
            let id = file.deletingPathExtension().lastPathComponent
            do {
                let body = Array(try Data(contentsOf: file))
                let sections = try ReportReader.sections(of: body, format: ReportFormat(fileName: file.lastPathComponent))
                try writer.write(Line(report_id: id, sections: sections))
                succeeded += 1
            } catch let error as ReportError where error.code == .empty {
                // A well-formed report whose sections are all blank (IU has a few): nothing to split.
                try writer.write(Line(report_id: id, sections: ReportSections()))
                succeeded += 1
            } catch {
                try writer.write(Line(report_id: id, error: "\(error)"))
            }
        }
        try writer.close()
        FileHandle.standardError.write(Data("sections: \(succeeded) of \(files.count) reports\n".utf8))
        if succeeded == 0 { throw ExitCode.failure }
    }
}
