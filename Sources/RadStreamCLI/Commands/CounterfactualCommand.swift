import ArgumentParser
import Diffusion
import Foundation
import Imaging
import Models
import TensorEngine

struct CounterfactualCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "counterfactual",
        abstract: "Explain the joint model's call on each *.png, *.jpg and *.dcm file by its counterfactual toward the other class.",
        discussion: """
            Each film, read as the classifiers read it (8-bit grey, the centred square, area-averaged \
            to 28×28), is brought to --start-step (by DDIM inversion, or with --no-inversion by \
            seeded noise) and denoised in --steps DDIM steps with the joint model's head guiding it \
            toward the class it does not decide (--guidance scales the head's gradient). What changed is what the model would have needed to see otherwise.

            Writes OUT/<file name> (the counterfactual: a 28×28 grey PNG, under the input's own file \
            name), OUT/<stem>.difference.png (the film in grey, red where the counterfactual is \
            brighter, blue where darker) and one line per file in OUT/counterfactuals.jsonl: \
            {"file", "from", "to", "probability_before", "probability_after", "l1", "changed_fraction"} \
            — the classes decided before and asked for, the head's probability of the finding for \
            the film and for its counterfactual, the mean absolute change of intensity (0–1) and the \
            share of pixels changed by more than 0.1. OUT/grid.png puts the first 32 side by side \
            for a person to look at: each row the film, its counterfactual and the difference map, \
            four times their size. A file that cannot be read gives \
            {"file", "error"} and the command goes on; the exit status is non-zero only when no \
            file could be processed.

            Example: radstream counterfactual --images ../shared/data/pneumoniamnist/val --out /tmp/counterfactuals
            """)

    @Option(help: "Folder of images.") var images: String
    @Option(help: "Output folder.") var out: String
    @Option(help: "The joint diffusion model (file or folder; default: the shipped models/diffusion).") var model: String?
    @Option(help: "The step each film is noised to (1–999).") var startStep = CounterfactualOptions().startStep
    @Option(help: "DDIM steps from there.") var steps = CounterfactualOptions().steps
    @Option(help: "Scale of the head's guidance.") var guidance = CounterfactualOptions().guidance
    @Flag(inversion: .prefixedNo, help: "Bring each film to the start step by DDIM inversion (--no-inversion: by seeded noise).")
    var inversion = CounterfactualOptions().inversion
    @Option(help: "σ, in pixels, of the Gaussian smoothing the head's gradient (0: none).") var gradientBlur = CounterfactualOptions().gradientBlur
    @Option(help: "Seed of the noise.") var seed: UInt64 = 1
    @Option(help: "Threads the tensor engine uses.") var threads = 2

    struct Line: Encodable {
        let file: String
        var from: String?
        var to: String?
        var probabilityBefore: Float?
        var probabilityAfter: Float?
        var l1: Double?
        var changedFraction: Double?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case file, from, to, l1, error
            case probabilityBefore = "probability_before", probabilityAfter = "probability_after", changedFraction = "changed_fraction"
        }
    }

    func validate() throws {
        guard startStep >= 1, startStep <= 999 else { throw ValidationError("--start-step must be in 1…999") }
        guard steps >= 1, guidance >= 0, gradientBlur >= 0 else {
            throw ValidationError("--steps must be positive, --guidance and --gradient-blur not negative")
        }
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let location = model.map { URL(filePath: $0) } ?? ModelStore.defaultDirectory().appending(path: JointDiffusionModel.folderName)
        let joint = try JointDiffusionModel(contentsOf: location)
        let explainer = try CounterfactualExplainer(model: joint, options: .init(startStep: startStep, steps: steps, guidance: guidance,
                                                                                 inversion: inversion, gradientBlur: gradientBlur, seed: seed))
        let files = try ImageFiles.list(in: URL(filePath: images))
        let folder = URL(filePath: out)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let writer = try JSONLinesWriter(path: folder.appending(path: "counterfactuals.jsonl").path)
        let side = joint.settings.inputSide, classes = joint.settings.classes
        let decoder = ImageDecoder()
        let log = StandardError()
        var succeeded = 0
        var shown: [(film: [UInt8], counterfactual: [UInt8], difference: [UInt8])] = []
        for chunk in stride(from: 0, to: files.count, by: 64).map({ files[$0..<min($0 + 64, files.count)] }) {
            let inputs = ImageFiles.read(Array(chunk)) { try decoder.decode($0).image.thumbnail(side: side).pixels }
            var lines = chunk.map { Line(file: $0.lastPathComponent) }
            for (index, input) in inputs.enumerated() {
                if case .failure(let error) = input { lines[index].error = "\(error)" }
            }
            let readable = inputs.indices.filter { (try? inputs[$0].get()) != nil }
            let films = readable.map { try! inputs[$0].get() }
            for (position, made) in explainer.explain(films).enumerated() {
                let row = readable[position], name = chunk[chunk.startIndex + row].lastPathComponent
                let stem = (name as NSString).deletingPathExtension
                try Data(try PNGEncoder.encode(GreyImage(width: side, height: side, pixels: made.pixels))).write(to: folder.appending(path: name))
                let difference = CounterfactualExplainer.differenceMap(original: films[position], counterfactual: made.pixels)
                if shown.count < 32 { shown.append((films[position], made.pixels, difference)) }
                try Data(try PNGEncoder.encodeRGB(difference, width: side, height: side)).write(to: folder.appending(path: "\(stem).difference.png"))
                lines[row].from = classes[made.from]
                lines[row].to = classes[made.to]
                lines[row].probabilityBefore = made.probabilityBefore
                lines[row].probabilityAfter = made.probabilityAfter
                lines[row].l1 = made.l1
                lines[row].changedFraction = made.changedFraction
            }
            for line in lines { try writer.write(line) }
            succeeded += readable.count
            log.line("counterfactual: \(succeeded) of \(files.count) films")
        }
        try writer.close()
        if !shown.isEmpty {
            let grid = Self.grid(shown, side: side)
            try Data(try PNGEncoder.encodeRGB(grid.pixels, width: grid.width, height: grid.height)).write(to: folder.appending(path: "grid.png"))
        }
        log.line("counterfactual: \(succeeded) of \(files.count) images (\(joint.settings.name) \(joint.settings.version), start step \(startStep), \(steps) steps, guidance \(guidance)\(inversion ? ", DDIM inversion" : ""))")
        if succeeded == 0 { throw ExitCode.failure }
    }

    /// Rows of film, counterfactual and difference map (RGB), each `scale` times its size, a
    /// 4-pixel black gutter between them.
    static func grid(_ rows: [(film: [UInt8], counterfactual: [UInt8], difference: [UInt8])], side: Int,
                     scale: Int = 4) -> (pixels: [UInt8], width: Int, height: Int) {
        let cell = side * scale, gutter = 4
        let width = 3 * cell + 2 * gutter, height = rows.count * cell + (rows.count - 1) * gutter
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for (index, row) in rows.enumerated() {
            let images = [row.film.flatMap { [$0, $0, $0] }, row.counterfactual.flatMap { [$0, $0, $0] }, row.difference]
            for (column, rgb) in images.enumerated() {
                for y in 0..<cell {
                    for x in 0..<cell {
                        let source = ((y / scale) * side + x / scale) * 3
                        let target = ((index * (cell + gutter) + y) * width + column * (cell + gutter) + x) * 3
                        for channel in 0..<3 { pixels[target + channel] = rgb[source + channel] }
                    }
                }
            }
        }
        return (pixels, width, height)
    }
}
