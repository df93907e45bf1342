import ArgumentParser
import Diffusion
import Foundation
import Models
import TensorEngine
import Training

struct EvaluateCounterfactualsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-counterfactuals",
        abstract: "The counterfactuals' trade-off: flips under the joint head and an independent classifier, against how much changed.",
        discussion: """
            For every start step × guidance given, the counterfactuals of --films films of --split \
            (a seeded sample; train to choose the defaults, val to report them): the share the joint \
            head decides as the class asked for; the same under the shipped pneumonia classifier, \
            which the counterfactuals were not made against (over the films it decided as the head \
            did); the mean L1 change (intensities 0–1) and the share of pixels changed by more \
            than 0.1. Prints a table; --json FILE writes the rows.

            Example: radstream evaluate-counterfactuals --split val --start-steps 100,150,200 --guidances 4,8
            """)

    @Option(help: "The joint diffusion model.") var model = "models/diffusion"
    @Option(help: "The independent classifier.") var classifier = "models/pneumonia"
    @Option(help: "PneumoniaMNIST folder.") var data = "../shared/data/pneumoniamnist"
    @Option(help: "train or val.") var split = "train"
    @Option(help: "Films (a seeded sample of the split).") var films = 256
    @Option(help: "Start steps, comma-separated.") var startSteps = "150,250,350"
    @Option(help: "Guidance scales, comma-separated.") var guidances = "0,2,5,10"
    @Option(help: "DDIM steps.") var steps = CounterfactualOptions().steps
    @Option(help: "Inversion: noise (seeded), ddim (DDIM inversion), or both, comma-separated.") var inversion = "ddim"
    @Option(help: "σ of the Gaussian smoothing the head's gradient, in pixels, comma-separated (0: none).") var gradientBlurs = "0"
    @Option(help: "Seed of the sample and the noise.") var seed: UInt64 = 1
    @Option(help: "Write the rows as JSON here.") var json: String?
    @Option(help: "Threads the tensor engine uses.") var threads = 2

    func validate() throws {
        guard ["train", "val"].contains(split) else { throw ValidationError("--split must be train or val") }
        guard inversion.split(separator: ",").allSatisfy({ ["noise", "ddim"].contains($0) }) else {
            throw ValidationError("--inversion must be noise, ddim, or both, comma-separated")
        }
        guard films >= 1, steps >= 1 else { throw ValidationError("--films and --steps must be positive") }
        guard Self.numbers(startSteps).map({ !$0.isEmpty && $0.allSatisfy { $0 >= 1 && $0 < 1000 } }) == true else {
            throw ValidationError("--start-steps must be steps in 1…999, comma-separated")
        }
        guard Self.numbers(gradientBlurs).map({ !$0.isEmpty && $0.allSatisfy { $0 >= 0 } }) == true else {
            throw ValidationError("--gradient-blurs must be σ ≥ 0, comma-separated")
        }
        guard Self.numbers(guidances).map({ !$0.isEmpty && $0.allSatisfy { $0 >= 0 } }) == true else {
            throw ValidationError("--guidances must be scales ≥ 0, comma-separated")
        }
    }

    static func numbers(_ list: String) -> [Double]? {
        let values = list.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        return values.contains(nil) ? nil : values.map { $0! }
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let joint = try JointDiffusionModel(contentsOf: URL(filePath: model))
        guard let independent = try ModelStore.classifiers(at: URL(filePath: classifier)).first else {
            throw CommandFailure("\(classifier) holds no classifier")
        }
        let loaded = try TrainingData.load(data, side: joint.settings.inputSide)
        var sample = (split == "train" ? loaded.training : loaded.validation).images
        var generator = SeededGenerator(seed: seed)
        sample.shuffle(using: &generator)
        let chosen = sample.prefix(films).map(\.pixels)
        let log = StandardError()
        var rows: [CounterfactualFigures] = []
        print("| start | start step | guidance | gradient blur | films | flips (joint head) | flips (\(independent.settings.name) CNN) | mean L1 | changed > 0.1 | s |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        let grid = inversion.split(separator: ",").map { $0 == "ddim" }.flatMap { inverts in
            Self.numbers(startSteps)!.flatMap { start in
                Self.numbers(guidances)!.flatMap { guidance in
                    Self.numbers(gradientBlurs)!.map { blur in
                        CounterfactualOptions(startStep: Int(start), steps: steps, guidance: Float(guidance), inversion: inverts,
                                              gradientBlur: Float(blur), seed: seed)
                    }
                }
            }
        }
        for options in grid {
            let figures = CounterfactualFigures.measure(Array(chosen), explainer: try CounterfactualExplainer(model: joint, options: options),
                                                        independent: independent)
            rows.append(figures)
            print(String(format: "| %@ | %d | %g | %g | %d | %.3f | %.3f (of %d) | %.4f | %.3f | %.0f |",
                         options.inversion ? "DDIM inversion" : "noise", options.startStep, options.guidance, options.gradientBlur,
                         figures.films, figures.flipRate, figures.independentFlipRate, figures.independentFilms, figures.meanL1,
                         figures.meanChangedFraction, figures.seconds))
            log.line("evaluate-counterfactuals: \(rows.count) of \(grid.count) settings done")
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(rows).write(to: URL(filePath: json))
        }
    }
}
