import ArgumentParser
import Diffusion
import Foundation
import Imaging
import Models
import TensorEngine
import Training

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Run the image classifiers on every *.png, *.jpg and *.dcm file of a folder.",
        discussion: """
            Writes one JSON line per file: {"file": <name>, "probabilities": {"pneumonia": 0.93, ...}, \
            "decisions": {"pneumonia": "pneumonia"}}. A binary model gives the probability of its \
            finding; a model of more classes gives one per class. Probabilities are calibrated \
            (temperature scaling) and decisions use the threshold chosen on the validation set. \
            Images of any size go through the training's preprocessing: decoded to 8-bit grey \
            (DICOM windowed, MONOCHROME1 inverted), the centred square, area-averaged to the model's side. \
            A file that cannot be read gives {"file": ..., "error": ...} and the command goes on; the \
            exit status is non-zero only when no file could be processed.

            Each model with an applicability gate beside it (applicability.safetensors, written by \
            `train applicability` for that very version) also says whether it is fit to read the \
            film at all: "applicable": {"pneumonia": true} and "applicability": {"pneumonia": 0.42}, \
            the share of its training films that lie farther from what it was trained on (a blank \
            film scores 0). A model without a gate is left out of both.

            Example: radstream classify --images ../shared/data/pneumoniamnist/val --out predictions.jsonl
            """)

    @Option(help: "Folder of images.") var images: String
    @Option(help: "Output JSON Lines file ('-' for standard output).") var out: String
    @Option(help: "A model file or folder (default: the shipped models).") var model: String?
    @Option(help: "Threads the tensor engine uses.") var threads = 2

    struct Line: Encodable {
        let file: String
        var probabilities: [String: Float]?
        var decisions: [String: String]?
        var applicable: [String: Bool]?
        var applicability: [String: Float]?
        var error: String?
    }

    /// What one model says of a film, as a line reports it.
    struct Reading {
        var probabilities: [String: Float]
        var decision: String
        var assessment: ApplicabilityGate.Assessment?
    }

    /// A model the command runs: its name (the lines' key), what the log calls it, its input
    /// side, and its readings of a batch of films.
    struct Reader {
        let name: String
        let label: String
        let side: Int
        let read: ([[UInt8]]) -> [Reading]
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let location = model.map { URL(filePath: $0) } ?? ModelStore.defaultDirectory()
        let readers = try Self.readers(at: location)
        let files = try ImageFiles.list(in: URL(filePath: images))
        let writer = try JSONLinesWriter(path: out)
        let decoder = ImageDecoder()
        let sides = Set(readers.map(\.side))
        var succeeded = 0
        for chunk in stride(from: 0, to: files.count, by: 64).map({ files[$0..<min($0 + 64, files.count)] }) {
            // Decoding dominates with full-size files; it runs on every core, the models then
            // see the chunk as one batch.
            let inputs = ImageFiles.read(Array(chunk)) { bytes in
                let image = try decoder.decode(bytes).image
                return Dictionary(uniqueKeysWithValues: sides.map { ($0, image.thumbnail(side: $0).pixels) })
            }
            var lines = chunk.map { Line(file: $0.lastPathComponent) }
            for (index, input) in inputs.enumerated() {
                if case .failure(let error) = input { lines[index].error = "\(error)" }
            }
            let readable = inputs.indices.filter { (try? inputs[$0].get()) != nil }
            for reader in readers where !readable.isEmpty {
                let readings = reader.read(readable.map { try! inputs[$0].get()[reader.side]! })
                for (row, reading) in zip(readable, readings) {
                    lines[row].probabilities = (lines[row].probabilities ?? [:]).merging(reading.probabilities) { $1 }
                    lines[row].decisions = (lines[row].decisions ?? [:]).merging([reader.name: reading.decision]) { $1 }
                    guard let assessment = reading.assessment else { continue }
                    lines[row].applicable = (lines[row].applicable ?? [:]).merging([reader.name: assessment.applicable]) { $1 }
                    lines[row].applicability = (lines[row].applicability ?? [:]).merging([reader.name: assessment.score]) { $1 }
                }
            }
            for line in lines { try writer.write(line) }
            succeeded += readable.count
        }
        try writer.close()
        StandardError().line("classify: \(succeeded) of \(files.count) images (\(readers.map(\.label).joined(separator: ", ")))")
        if succeeded == 0 { throw ExitCode.failure }
    }

    /// The models at `location`: a joint diffusion model's head, or the image classifiers with
    /// their gates.
    static func readers(at location: URL) throws -> [Reader] {
        if JointDiffusionModel.isCheckpoint(at: location) {
            let joint = try JointDiffusionModel(contentsOf: location)
            let settings = joint.settings
            return [Reader(name: settings.name, label: "\(settings.name) \(settings.version) (joint diffusion head)",
                           side: settings.inputSide) { films in
                ClassifierCalibration.probabilities(logits: joint.logits(films), temperature: settings.temperature).map { probabilities in
                    Reading(probabilities: settings.reported(probabilities), decision: settings.classes[settings.decision(probabilities)])
                }
            }]
        }
        return try ModelStore.gatedClassifiers(at: location, stale: { StandardError().line("classify: \($0)") }).map { served in
            let (classifier, gate) = (served.classifier, served.gate)
            let settings = classifier.settings
            return Reader(name: settings.name, label: "\(settings.name) \(settings.version)", side: settings.inputSide) { batch in
                let outputs = gate.map { classifier.probabilitiesAndFeatures(batch, pooling: $0.pooling) }
                    ?? classifier.probabilities(batch).map { ($0, []) }
                let assessments = gate.map { $0.assess(pixels: batch, features: outputs.map(\.1)) }
                return outputs.enumerated().map { position, output in
                    Reading(probabilities: classifier.reported(output.0), decision: settings.classes[classifier.decision(output.0)],
                            assessment: assessments?[position])
                }
            }
        }
    }
}
