import ArgumentParser
import Captioning
import Foundation
import Imaging
import Models
import TensorEngine

struct CaptionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caption",
        abstract: "Write an IMPRESSION for each chest X-ray image, with the trained captioner.",
        discussion: """
            Reads every *.png, *.jpg and *.dcm file of a folder and writes one JSON line per file: \
            {"file": <file name>, "impression": "<generated>"}. Each image is reduced to the \
            captioner's input side (centre crop, area average) as the classifiers' input is. A file \
            that cannot be read gives {"file": …, "error": …}; the exit status is non-zero only when \
            no image could be captioned. Without --model, the shipped captioner (models/captioner). \
            The captioner learnt from images paired with reports of other patients that state the \
            same finding: its impression says what it sees of pneumonia, in a radiologist's words.

            Example: radstream caption --images ../shared/data/pneumoniamnist/val --out captions.jsonl
            """)

    @Option(help: "Folder of images.") var images: String
    @Option(help: "Output JSON Lines file ('-' for standard output).") var out: String
    @Option(help: "Captioner folder (default: the shipped one).") var model: String?
    @Option(help: "How the impression is chosen: beam (width 4) or greedy.") var decoding = Decoding.beam
    @Option(help: "Threads the tensor engine uses.") var threads = 2

    enum Decoding: String, ExpressibleByArgument, CaseIterable {
        case beam, greedy
    }

    struct Line: Encodable {
        let file: String
        var impression: String?
        var error: String?
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let captioner = try Captioner(contentsOf: model.map { URL(filePath: $0) } ?? ModelStore.defaultDirectory().appending(path: "captioner"))
        let files = try ImageFiles.list(in: URL(filePath: images))
        let writer = try JSONLinesWriter(path: out)
        let decoder = ImageDecoder(), side = captioner.trunk.settings.inputSide
        var succeeded = 0
        for chunk in stride(from: 0, to: files.count, by: 64).map({ files[$0..<min($0 + 64, files.count)] }) {
            let inputs = ImageFiles.read(Array(chunk)) { try decoder.decode($0).image.thumbnail(side: side).pixels }
            var lines = chunk.map { Line(file: $0.lastPathComponent) }
            let readable = inputs.indices.filter { (try? inputs[$0].get()) != nil }
            for (index, input) in inputs.enumerated() {
                if case .failure(let error) = input { lines[index].error = "\(error)" }
            }
            let captions = captioner.caption(readable.map { try! inputs[$0].get() }, decoding: decoding == .beam ? .beam(width: 4) : .greedy)
            for (row, caption) in zip(readable, captions) { lines[row].impression = caption }
            for line in lines { try writer.write(line) }
            succeeded += readable.count
        }
        try writer.close()
        StandardError().line("caption: \(succeeded) of \(files.count) images (captioner \(captioner.settings.version))")
        if succeeded == 0 { throw ExitCode.failure }
    }
}
