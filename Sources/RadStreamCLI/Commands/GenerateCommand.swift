import ArgumentParser
import Diffusion
import Foundation
import Imaging
import Models
import TensorEngine

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate films of a class with the joint diffusion model (DDIM, guided by its own head).",
        discussion: """
            Starts from seeded noise at the schedule's last step and denoises it in --steps DDIM \
            steps, the predicted noise moved along the head's gradient toward --class (scaled by \
            --guidance; 0: unguided). Writes OUT/<class>-0001.png … (28×28 grey, as the classifiers \
            read films) and OUT/<class>-grid.png, all of them side by side for a person to look at.

            Example: radstream generate --class pneumonia --count 16 --out /tmp/generated
            """)

    @Option(help: "The joint diffusion model (file or folder; default: the shipped models/diffusion).") var model: String?
    @Option(name: .customLong("class"), help: "The class to generate (one of the model's classes, e.g. normal or pneumonia).") var label: String
    @Option(help: "How many films.") var count = 16
    @Option(help: "Output folder.") var out: String
    @Option(help: "DDIM steps.") var steps = 50
    @Option(help: "Scale of the head's guidance (0: unguided).") var guidance: Float = 2
    @Option(help: "Seed of the starting noise.") var seed: UInt64 = 1
    @Option(help: "Threads the tensor engine uses.") var threads = 2

    func validate() throws {
        guard count >= 1, count <= 10_000 else { throw ValidationError("--count must be in 1…10000") }
        guard steps >= 1, steps <= 1000 else { throw ValidationError("--steps must be in 1…1000") }
        guard guidance >= 0 else { throw ValidationError("--guidance must not be negative") }
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let location = model.map { URL(filePath: $0) } ?? ModelStore.defaultDirectory().appending(path: JointDiffusionModel.folderName)
        let joint = try JointDiffusionModel(contentsOf: location)
        guard let index = joint.settings.classes.firstIndex(of: label) else {
            throw CommandFailure("\(location.path) knows the classes \(joint.settings.classes.joined(separator: ", ")), not \(label)")
        }
        let folder = URL(filePath: out)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let log = StandardError()
        let sampler = DiffusionSampler(model: joint)
        var films: [[UInt8]] = []
        for start in stride(from: 0, to: count, by: 64) {
            let size = min(64, count - start)
            films += sampler.generate(label: index, count: size, steps: steps, guidance: guidance, seed: seed &+ UInt64(start)) { step in
                if step % 10 == 0 || step == steps { log.line("generate: films \(start + 1)–\(start + size) of \(count): step \(step)/\(steps)") }
            }
        }
        let side = joint.settings.inputSide
        for (number, film) in films.enumerated() {
            let name = String(format: "%@-%04d.png", label, number + 1)
            try Data(try PNGEncoder.encode(GreyImage(width: side, height: side, pixels: film))).write(to: folder.appending(path: name))
        }
        try Data(try PNGEncoder.encode(FilmGrid.grid(films, side: side))).write(to: folder.appending(path: "\(label)-grid.png"))
        print("generate: \(count) \(label) films and \(label)-grid.png in \(folder.path) (\(joint.settings.name) \(joint.settings.version), \(steps) steps, guidance \(guidance))")
    }
}
