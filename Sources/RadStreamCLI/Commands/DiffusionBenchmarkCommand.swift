import ArgumentParser
import Diffusion
import Foundation
import TensorEngine

struct DiffusionBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diffusion",
        abstract: "Measure the joint diffusion U-Net: its training step, its denoising pass and a guided sampling step.",
        discussion: """
            On random films, with the shipped configuration (channels 32/64/64, one block per level): \
            the training step as `train diffusion` takes it (64 films denoised, 32 through the head, \
            Adam), the denoising pass alone (inference, batch 64), and one guided DDIM step (the \
            denoising pass and the head's gradient). scripts/compare_unet_with_pytorch.py runs the \
            same network in PyTorch beside it.

            Example: radstream benchmark diffusion
            """)

    @Option(help: "Seconds per figure.") var seconds = 5.0
    @Option(help: "Threads the tensor engine uses.") var threads = 2
    @Flag(help: "Print the figures as one JSON document (progress to standard error) instead of tables.") var json = false

    func run() throws {
        EngineWorkers.setCount(threads)
        let options = JointDiffusionOptions()
        let network = try DiffusionUNet(configuration: options.network, seed: 1)
        var generator = SeededGenerator(seed: 2)
        func films(_ count: Int) -> Tensor {
            Tensor(shape: [count, 1, 28, 28], data: (0..<(count * 784)).map { _ in generator.normal() })
        }
        let (noised, noise, clean) = (films(64), films(64), films(32))
        let steps = (0..<64).map { ($0 * 997) % 1000 }
        let labels = Tensor.oneHot((0..<32).map { $0 % 2 }, classes: 2)
        let parameters = network.parameters.keys.sorted().map { network.parameters[$0]! }
        var optimizer = AdamW(parameters: parameters, learningRate: 1e-4, weightDecay: 0)
        let training = BenchmarkClock.callsPerSecond(for: seconds) {
            let difference = network(noised, steps: steps) - noise
            let loss = (difference * difference).mean() + network.logits(clean).crossEntropy(targets: labels) * options.classificationWeight
            loss.backward()
            optimizer.step()
        } * 64
        let frozen = network.frozen()
        let denoising = BenchmarkClock.callsPerSecond(for: seconds) { _ = frozen(noised, steps: steps) } * 64
        var settings = JointDiffusionModel.settings(name: "pneumonia", classes: ["normal", "pneumonia"], side: 28)
        settings.threshold = 0.5
        let sampler = DiffusionSampler(model: JointDiffusionModel(network: network, schedule: options.schedule, settings: settings))
        let guided = BenchmarkClock.callsPerSecond(for: seconds) {
            _ = sampler.denoise(noised, from: 250, steps: 1, guidance: 1, targets: [Int](repeating: 1, count: 64))
        } * 64
        let report = TablesOutput("diffusion benchmark: \(threads) engine threads, ~\(seconds) s per figure, \(network.parameterCount) parameters", json: json)
        report.table(["joint diffusion U-Net", "films/s"])
        report.row(["training step, 64 denoised + 32 classified, Adam", "\(Int(training))"])
        report.row(["denoising pass, batch 64", "\(Int(denoising))"])
        report.row(["guided DDIM step, batch 64", "\(Int(guided))"])
        try report.finish()
    }
}
