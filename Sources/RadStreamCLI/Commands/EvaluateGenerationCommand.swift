import ArgumentParser
import Diffusion
import Foundation
import Models
import TensorEngine
import Training

struct EvaluateGenerationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-generation",
        abstract: "How real the joint model's films look: Fréchet distances on a classifier's features, and its agreement with the class asked for.",
        discussion: """
            Generates --count films in the proportions of val's classes (DDIM, --steps, the head's \
            --guidance) and measures, on the shipped pneumonia classifier's trunk (its stages, \
            globally pooled): the Fréchet distance of the generated films to val; of as many train \
            films to val (the floor: two samples of one population); of noise films to val (the \
            ceiling); and per class, how often the classifier decides a generated film as the class \
            it was asked for.

            Example: radstream evaluate-generation --count 512
            """)

    @Option(help: "The joint diffusion model.") var model = "models/diffusion"
    @Option(help: "The classifier whose features are compared.") var classifier = "models/pneumonia"
    @Option(help: "PneumoniaMNIST folder.") var data = "../shared/data/pneumoniamnist"
    @Option(help: "Films to generate.") var count = 512
    @Option(help: "DDIM steps.") var steps = 50
    @Option(help: "Scale of the head's guidance.") var guidance: Float = 2
    @Option(help: "Seed of the noise and the train sample.") var seed: UInt64 = 1
    @Option(help: "Write the figures as JSON here.") var json: String?
    @Option(help: "Threads the tensor engine uses.") var threads = 2

    func validate() throws {
        guard count >= 16, steps >= 1, guidance >= 0 else { throw ValidationError("--count at least 16, --steps positive, --guidance not negative") }
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let joint = try JointDiffusionModel(contentsOf: URL(filePath: model))
        guard let reader = try ModelStore.classifiers(at: URL(filePath: classifier)).first else {
            throw CommandFailure("\(classifier) holds no classifier")
        }
        let loaded = try TrainingData.load(data, side: joint.settings.inputSide)
        let validation = loaded.validation.images.map(\.pixels)
        let log = StandardError()
        let sampler = DiffusionSampler(model: joint)
        var generated: [(label: Int, film: [UInt8])] = []
        let counts = loaded.validation.classCounts
        for (label, members) in counts.enumerated() {
            let wanted = Int((Double(count) * Double(members) / Double(validation.count)).rounded())
            for start in stride(from: 0, to: wanted, by: 64) {
                let size = min(64, wanted - start)
                generated += sampler.generate(label: label, count: size, steps: steps, guidance: guidance,
                                              seed: seed &+ UInt64(label * 100_000 + start)).map { (label, $0) }
                log.line("evaluate-generation: \(joint.settings.classes[label]) \(start + size)/\(wanted)")
            }
        }
        var generator = SeededGenerator(seed: seed)
        let real = Array(loaded.training.images.shuffled(using: &generator).prefix(generated.count).map(\.pixels))
        let noise = (0..<generated.count).map { _ in (0..<validation[0].count).map { _ in UInt8(generator.next() % 256) } }
        let target = GenerationFigures.features(validation, of: reader)
        func distance(_ films: [[UInt8]]) -> Double { FrechetDistance.between(GenerationFigures.features(films, of: reader), target) }
        let decisions = reader.probabilities(generated.map(\.film)).map(reader.decision)
        var agreement: [String: Double] = [:]
        for (label, name) in joint.settings.classes.enumerated() {
            let asked = generated.indices.filter { generated[$0].label == label }
            agreement[name] = Double(asked.filter { decisions[$0] == label }.count) / Double(max(asked.count, 1))
        }
        let figures = GenerationFigures(generated: generated.count, generatedDistance: distance(generated.map(\.film)),
                                        realDistance: distance(real), noiseDistance: distance(noise), agreement: agreement)
        print("| films against val | Fréchet distance (\(reader.settings.name) CNN features) |")
        print("|---|---|")
        print(String(format: "| %d generated (%d steps, guidance %g) | %.3f |", figures.generated, steps, guidance, figures.generatedDistance))
        print(String(format: "| %d train films (the floor) | %.3f |", real.count, figures.realDistance))
        print(String(format: "| %d noise films (the ceiling) | %.3f |", noise.count, figures.noiseDistance))
        for (name, share) in agreement.sorted(by: { $0.key < $1.key }) {
            print(String(format: "%@: the classifier decides %.3f of the films asked for as %@", name, share, name))
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(figures).write(to: URL(filePath: json))
        }
    }
}
