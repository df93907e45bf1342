import ArgumentParser
import Foundation
import Imaging
import Models
import TensorEngine

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Draw a classifier's Grad-CAM saliency over an image, as a PNG.",
        discussion: """
            Classifies the image as `classify` does and draws, over the centred square the model \
            reads, where the evidence for the decided class lies (Grad-CAM on the last residual \
            stage: red is strongest). Prints the probabilities and the decision as one JSON line. \
            With several models (the shipped folder holds one per finding), --finding picks one; \
            the default is pneumonia.

            Example: radstream explain --image ../shared/data/samples/00000001_000.png --out gradcam.png
            """)

    @Option(help: "Image file (PNG, JPEG or DICOM).") var image: String
    @Option(help: "Output PNG file.") var out: String
    @Option(help: "A model file or folder (default: the shipped models).") var model: String?
    @Option(help: "Which model to explain, by name, when several are found.") var finding = "pneumonia"

    struct Line: Encodable {
        let file: String
        let model: String
        let version: String
        let probabilities: [String: Float]
        let decision: String
        let out: String
    }

    func run() throws {
        let classifiers = try ModelStore.classifiers(at: model.map { URL(filePath: $0) } ?? ModelStore.defaultDirectory())
        guard let classifier = classifiers.count == 1 ? classifiers[0] : classifiers.first(where: { $0.settings.name == finding }) else {
            throw CommandFailure("no model named \(finding) among \(classifiers.map(\.settings.name))")
        }
        let url = URL(filePath: image)
        guard let bytes = try? Data(contentsOf: url), bytes.count <= ImageFiles.maxFileBytes else {
            throw CommandFailure("\(image): cannot be read, or larger than \(ImageFiles.maxFileBytes >> 20) MiB")
        }
        let decoded: GreyImage
        do { decoded = try ImageDecoder().decode([UInt8](bytes)).image } catch { throw CommandFailure("\(image): \(error)") }
        let settings = classifier.settings
        let explanation = classifier.explain([decoded.thumbnail(side: settings.inputSide).pixels])[0]
        let overlay = HeatMapOverlay.render(decoded) { side in explanation.saliency.resampled(width: side, height: side) }
        let png = try PNGEncoder.encodeRGB(overlay.pixels, width: overlay.width, height: overlay.height)
        try Data(png).write(to: URL(filePath: out))
        let writer = try JSONLinesWriter(path: "-")
        try writer.write(Line(file: url.lastPathComponent, model: settings.name, version: settings.version,
                              probabilities: classifier.reported(explanation.probabilities), decision: settings.classes[explanation.decidedClass], out: out))
    }
}
