import ArgumentParser
import Foundation
import Models
import Replay
import Reports
import Summarization
import TensorEngine

struct SummarizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summarize",
        abstract: "Write each report's IMPRESSION from its FINDINGS alone, with the trained summarizer.",
        discussion: """
            Reads every *.xml (IU/OpenI) and *.txt file of a folder and writes one JSON line per file: \
            {"report_id": <file stem>, "findings": "…", "impression": "<generated>"}. Only the \
            FINDINGS section reaches the model: an IMPRESSION in the file is never read. A report that \
            cannot be read, or has no FINDINGS, gives {"report_id": …, "error": …}; the exit status \
            is non-zero only when nothing could be summarized. Without --model, the shipped \
            summarizer (models/summarizer).

            Example: radstream summarize --reports ../shared/data/openi/reports --out impressions.jsonl
            """)

    @Option(help: "Folder of report files.") var reports: String
    @Option(help: "Output JSON Lines file ('-' for standard output).") var out: String
    @Option(help: "Summarizer folder (model.safetensors and vocabulary.txt); default: the shipped one.") var model: String?
    @Option(help: "How the impression is chosen: beam (the shipped model's best on the validation reports, with mbr), greedy (fastest) or mbr (minimum Bayes risk over sampled outputs).")
    var decoding = DecodingChoice.beam
    @Option(help: "Beam width, with --decoding beam.") var beamWidth = 4
    @Option(help: "Sampled outputs, with --decoding mbr.") var samples = 16

    enum DecodingChoice: String, ExpressibleByArgument, CaseIterable {
        case beam, greedy, mbr
    }

    var chosenDecoding: Summarizer.Decoding {
        switch decoding {
        case .greedy: .greedy
        case .beam: .beam(width: beamWidth)
        case .mbr: .minimumBayesRisk(samples: samples)
        }
    }
    @Option(help: "Threads the tensor engine uses.") var threads = 2

    struct Line: Encodable {
        let report_id: String
        var findings: String?
        var impression: String?
        var error: String?
    }

    func validate() throws {
        guard beamWidth >= 1, samples >= 1 else { throw ValidationError("--beam-width and --samples must be at least 1") }
    }

    func run() throws {
        BLAS.setThreads(threads)
        let summarizer = try Summarizer(contentsOf: model.map { URL(filePath: $0) } ?? ModelStore.defaultDirectory().appending(path: "summarizer"))
        let files = try ReplaySource.reportFiles(in: requireFolder(URL(filePath: reports)))
        let writer = try JSONLinesWriter(path: out)
        let log = StandardError()
        var succeeded = 0
        // In chunks, so that output and progress come while a large folder is summarized.
        for chunkStart in stride(from: 0, to: files.count, by: 128) {
            let chunk = files[chunkStart..<min(files.count, chunkStart + 128)]
            var lines: [Line] = [], readable: [(line: Int, findings: String)] = []
            for file in chunk {
                let id = file.deletingPathExtension().lastPathComponent
                do {
                    let sections = try ReportReader.sections(of: Array(try Data(contentsOf: file)), format: ReportFormat(fileName: file.lastPathComponent))
                    guard let findings = sections.findings, !findings.isEmpty else { throw ValidationErrorText("the report has no FINDINGS to summarize") }
                    readable.append((lines.count, findings))
                    lines.append(Line(report_id: id, findings: findings))
                } catch {
                    lines.append(Line(report_id: id, error: "\(error)"))
                }
            }
            let generated = summarizer.summarize(readable.map(\.findings), decoding: chosenDecoding)
            for ((line, _), impression) in zip(readable, generated) {
                if let impression {
                    lines[line].impression = impression
                    succeeded += 1
                } else {
                    lines[line] = Line(report_id: lines[line].report_id, error: "the FINDINGS hold no word the summarizer reads")
                }
            }
            for line in lines { try writer.write(line) }
            if files.count > 128 { log.line("summarize: \(chunkStart + chunk.count) of \(files.count) reports") }
        }
        try writer.close()
        log.line("summarize: \(succeeded) of \(files.count) reports (summarizer \(summarizer.version), \(chosenDecoding))")
        if succeeded == 0 { throw ExitCode.failure }
    }
}
