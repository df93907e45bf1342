import ArgumentParser
import Foundation
import Imaging
import Models
import TensorEngine

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Run the image classifiers on every *.png, *.jpg and *.dcm file of a folder.",
        discussion: """
            Writes one JSON line per file: {"file": <name>, "probabilities": {"pneumonia": 0.93, ...},
            "decisions": {"pneumonia": "pneumonia"}}. A binary model gives the probability of its
            finding; a model of more classes gives one per class. Probabilities are calibrated
            (temperature scaling) and decisions use the threshold chosen on the validation set.
            Images of any size go through the training's preprocessing: decoded to 8-bit grey
            (DICOM windowed, MONOCHROME1 inverted), the centred square, area-averaged to the model's side.
            A file that cannot be read gives {"file": ..., "error": ...} and the command goes on; the
            exit status is non-zero only when no file could be processed.
            """)

    @Option(help: "Folder of images.") var images: String
    @Option(help: "Output JSON Lines file ('-' for standard output).") var out: String
    @Option(help: "A model file or folder (default: the shipped models).") var model: String?
    @Option(help: "Threads the tensor engine uses.") var threads = 2

    struct Line: Encodable {
        let file: String
        var probabilities: [String: Float]?
        var decisions: [String: String]?
        var error: String?
    }

    func run() throws {
        BLAS.setThreads(threads)
        let classifiers = try ModelStore.classifiers(at: model.map { URL(filePath: $0) } ?? ModelStore.defaultDirectory())
        let files = try ImageFiles.list(in: URL(filePath: images))
        let writer = try JSONLinesWriter(path: out)
        let decoder = ImageDecoder()
        let sides = Set(classifiers.map(\.settings.inputSide))
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
            for classifier in classifiers where !readable.isEmpty {
                let batch = readable.map { try! inputs[$0].get()[classifier.settings.inputSide]! }
                for (row, probabilities) in zip(readable, classifier.probabilities(batch)) {
                    let settings = classifier.settings
                    lines[row].probabilities = (lines[row].probabilities ?? [:]).merging(classifier.reported(probabilities)) { $1 }
                    lines[row].decisions = (lines[row].decisions ?? [:])
                        .merging([settings.name: settings.classes[classifier.decision(probabilities)]]) { $1 }
                }
            }
            for line in lines { try writer.write(line) }
            succeeded += readable.count
        }
        try writer.close()
        StandardError().line("classify: \(succeeded) of \(files.count) images (\(classifiers.map { "\($0.settings.name) \($0.settings.version)" }.joined(separator: ", ")))")
        if succeeded == 0 { throw ExitCode.failure }
    }
}

/// The image files of a folder, and reading many of them at once.
enum ImageFiles {
    static let extensions: Set<String> = ["png", "jpg", "jpeg", "dcm"]
    /// Larger files are refused unread, as the daemon refuses them.
    static let maxFileBytes = 256 << 20

    static func list(in folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: requireFolder(folder), includingPropertiesForKeys: nil)
            .filter { extensions.contains($0.pathExtension.lowercased()) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// `transform` of every file's bytes, on every core; a file's failure stays its own.
    static func read<T: Sendable>(_ files: [URL], _ transform: @escaping @Sendable ([UInt8]) throws -> T) -> [Result<T, any Error>] {
        concurrentMap(files.count) { index in
            Result {
                let size = (try FileManager.default.attributesOfItem(atPath: files[index].path)[.size] as? Int) ?? 0
                guard size <= maxFileBytes else { throw ValidationErrorText("\(size) bytes: larger than \(maxFileBytes >> 20) MiB") }
                return try transform([UInt8](try Data(contentsOf: files[index])))
            }
        }
    }
}
