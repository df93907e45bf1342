import ArgumentParser
import Captioning
import Foundation
import Imaging
import Models
import TensorEngine

struct ClassifyBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Measure classification images/s: 28×28 PNGs and the full-size DICOM, decoding included.",
        discussion: """
            The files are read into memory first (the disk is not measured); then, as `classify` does, \
            each chunk of images is decoded and reduced on every core and classified as one batch. \
            Also given: the model alone on ready 28×28 inputs at batch 1 and batch 256, and with its \
            Grad-CAM maps (what the daemon computes per image), and the shipped captioner's \
            captions/s, greedy (as the daemon writes them) and with beam search.

            Example: radstream benchmark classify
            """)

    @Option(help: "The shared data folder.") var data = ProcessInfo.processInfo.environment["RADSTREAM_DATA"] ?? "../shared/data"
    @Option(help: "A model file or folder (default: the shipped pneumonia model).") var model: String?
    @Option(help: "Seconds per figure.") var seconds = 5.0
    @Option(help: "Threads the tensor engine uses.") var threads = 2
    @Flag(help: "Print the figures as one JSON document (progress to standard error) instead of tables.") var json = false

    func run() throws {
        EngineWorkers.setCount(threads)
        let classifiers = try ModelStore.classifiers(at: model.map { URL(filePath: $0) } ?? ModelStore.defaultDirectory())
        let classifier = classifiers.first { $0.settings.name == "pneumonia" } ?? classifiers[0]
        let root = URL(filePath: data)
        let pngs = try ImageFiles.list(in: root.appending(path: "pneumoniamnist/val")).prefix(512).map { [UInt8](try Data(contentsOf: $0)) }
        let dicom = [UInt8](try Data(contentsOf: root.appending(path: "samples/1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm")))
        let report = TablesOutput("classify benchmark: \(classifier.settings.name) \(classifier.settings.version), \(threads) engine threads, ~\(seconds) s per figure", json: json)
        report.table(["input", "images/s"])
        let side = classifier.settings.inputSide
        let decoder = ImageDecoder()
        func pipeline(_ files: [[UInt8]], chunk: Int) -> Double {
            rate(imagesPerCall: files.count) {
                for start in stride(from: 0, to: files.count, by: chunk) {
                    let slice = Array(files[start..<min(start + chunk, files.count)])
                    let inputs = concurrentMap(slice.count) { (try? decoder.decode(slice[$0]).image.thumbnail(side: side).pixels) ?? [] }
                    _ = classifier.probabilities(inputs)
                }
            }
        }
        report.row(["28×28 PNG files, decoded and classified in chunks of 256", "\(Int(pipeline(pngs, chunk: 256)))"])
        report.row(["1024×1024 JPEG DICOM, decoded, reduced and classified in chunks of 16", "\(String(format: "%.1f", pipeline(Array(repeating: dicom, count: 32), chunk: 16)))"])
        let inputs = pngs.prefix(256).map { (try? decoder.decode($0).image.pixels) ?? [] }
        report.row(["model alone, batch 1", "\(Int(rate(imagesPerCall: 1) { _ = classifier.probabilities([inputs[0]]) }))"])
        report.row(["model alone, batch 256", "\(Int(rate(imagesPerCall: 256) { _ = classifier.probabilities(inputs) }))"])
        report.row(["model with Grad-CAM, batch 256", "\(Int(rate(imagesPerCall: 256) { _ = classifier.explain(inputs) }))"])
        if let captioner = try? Captioner(contentsOf: ModelStore.defaultDirectory().appending(path: "captioner")) {
            report.row(["captioner \(captioner.settings.version), greedy, batch 256", "\(Int(rate(imagesPerCall: 256) { _ = captioner.caption(inputs, decoding: .greedy) }))"])
            let few = Array(inputs.prefix(32))
            report.row(["captioner, beam 4, one image per core", "\(Int(rate(imagesPerCall: few.count) { _ = captioner.caption(few, decoding: .beam(width: 4)) }))"])
        }
        try report.finish()
    }

    private func rate(imagesPerCall: Int, _ body: () -> Void) -> Double {
        BenchmarkClock.callsPerSecond(for: seconds, body) * Double(imagesPerCall)
    }
}
