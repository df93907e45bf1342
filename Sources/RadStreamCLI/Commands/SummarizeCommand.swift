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

            With a memory of earlier reports (--memory DIR, IU XML reports with both sections, read \
            in place; by default ../shared/data/openi/reports when that folder exists, from the working \
            directory or beside the repository of the shipped models), the impression \
            is chosen by the summarizer's reranker among its own and those of the reports whose \
            FINDINGS are nearest; a report is never its own neighbour (memory reports with the same \
            file stem are left out). --no-memory runs the model alone. The model writes its own \
            impression greedily with a memory and by beam search without one, unless --decoding says.

            Example: radstream summarize --reports ../shared/data/openi/reports --out impressions.jsonl
            Example: radstream summarize --reports new-reports --memory archive/reports --out impressions.jsonl
            """)

    @Option(help: "Folder of report files.") var reports: String
    @Option(help: "Output JSON Lines file ('-' for standard output).") var out: String
    @Option(help: "Summarizer folder (model.safetensors and vocabulary.txt); default: the shipped one.") var model: String?
    @Option(help: "How the model writes its own impression: greedy (the default with a memory: as good as beam there, by cross-validation, and three times as fast), beam (the default without one: 0.007 ROUGE-L better than greedy) or mbr (minimum Bayes risk over sampled outputs).")
    var decoding: DecodingChoice?
    @Option(help: "Beam width, with --decoding beam.") var beamWidth = 4
    @Option(help: "Sampled outputs, with --decoding mbr.") var samples = 16

    enum DecodingChoice: String, ExpressibleByArgument, CaseIterable {
        case beam, greedy, mbr
    }

    func chosenDecoding(withMemory: Bool) -> Summarizer.Decoding {
        switch decoding ?? (withMemory ? .greedy : .beam) {
        case .greedy: .greedy
        case .beam: .beam(width: beamWidth)
        case .mbr: .minimumBayesRisk(samples: samples)
        }
    }
    @Option(help: "Threads the tensor engine uses.") var threads = 2
    @Option(help: "Folder of earlier IU XML reports to draw on (default: ../shared/data/openi/reports when it exists, from here or beside the repository of the shipped models).") var memory: String?
    @Flag(help: "The model alone, without a memory of earlier reports.") var noMemory = false

    static let defaultMemory = "../shared/data/openi/reports"

    /// The default memory: from the working directory, or from the root of the repository whose
    /// models are shipped (`models/..`), so that it is found wherever the command is run from.
    static func defaultMemoryFolder() -> String? {
        let beside = ModelStore.defaultDirectory().deletingLastPathComponent().appending(path: defaultMemory).standardizedFileURL.path
        return [defaultMemory, beside].first { FileManager.default.fileExists(atPath: $0) }
    }

    struct Line: Encodable {
        let report_id: String
        var findings: String?
        var impression: String?
        var error: String?
    }

    func validate() throws {
        guard beamWidth >= 1, samples >= 1 else { throw ValidationError("--beam-width and --samples must be at least 1") }
        guard !(noMemory && memory != nil) else { throw ValidationError("--memory and --no-memory exclude each other") }
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let summarizer = try Summarizer(contentsOf: model.map { URL(filePath: $0) } ?? ModelStore.defaultDirectory().appending(path: "summarizer"))
        let files = try ReplaySource.reportFiles(in: requireFolder(URL(filePath: reports)))
        let log = StandardError()
        let reportMemory = try loadMemory(for: summarizer, log: log)
        let used = chosenDecoding(withMemory: reportMemory != nil)
        let writer = try JSONLinesWriter(path: out)
        var succeeded = 0
        // In chunks, so that output and progress come while a large folder is summarized.
        for chunkStart in stride(from: 0, to: files.count, by: 128) {
            let chunk = files[chunkStart..<min(files.count, chunkStart + 128)]
            var lines: [Line] = [], readable: [(line: Int, findings: String, id: String)] = []
            for file in chunk {
                let id = file.deletingPathExtension().lastPathComponent
                do {
                    let sections = try ReportReader.sections(of: Array(try Data(contentsOf: file)), format: ReportFormat(fileName: file.lastPathComponent))
                    guard let findings = sections.findings, !findings.isEmpty else { throw CommandFailure("the report has no FINDINGS to summarize") }
                    readable.append((lines.count, findings, id))
                    lines.append(Line(report_id: id, findings: findings))
                } catch {
                    lines.append(Line(report_id: id, error: "\(error)"))
                }
            }
            let generated = if let reportMemory, let reranker = summarizer.reranker {
                summarizer.summarize(readable.map(\.findings), decoding: used, memory: reportMemory, reranker: reranker,
                                     excluding: readable.map(\.id))
            } else {
                summarizer.summarize(readable.map(\.findings), decoding: used)
            }
            for ((line, _, _), impression) in zip(readable, generated) {
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
        log.line("summarize: \(succeeded) of \(files.count) reports (summarizer \(summarizer.version), \(used)"
                 + (reportMemory.map { ", reranked with a memory of \($0.entries.count) reports" } ?? ", the model alone") + ")")
        if succeeded == 0 { throw ExitCode.failure }
    }

    /// The memory to draw on: --memory, else the default folder when it exists; none with
    /// --no-memory or for a summarizer without a reranker (said on standard error).
    private func loadMemory(for summarizer: Summarizer, log: StandardError) throws -> ReportMemory? {
        guard !noMemory else { return nil }
        let folder = memory ?? Self.defaultMemoryFolder()
        guard let folder else { return nil }
        guard summarizer.reranker != nil else {
            log.line("summarize: the summarizer has no \(Summarizer.rerankerFileName); the memory \(folder) is not used")
            return nil
        }
        let loaded = try ReportMemory(contentsOf: requireFolder(URL(filePath: folder)))
        guard !loaded.isEmpty else { throw CommandFailure("--memory \(folder) holds no IU XML report with both FINDINGS and IMPRESSION") }
        return loaded
    }
}
