import ArgumentParser
import Foundation
import Models
import TensorEngine

struct EngineBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Measure the tensor engine: sgemm, conv2d, and the reference network's training and inference.",
        discussion: """
            Each figure is a ratio measured in this run: the engine's matmul against OpenBLAS's sgemm \
            called directly; conv2d forward and backward in effective GFLOPS as a share of sgemm's on \
            the same machine; the reference residual CNN (16/32/64, 28×28 grey) in images/s, to set \
            beside scripts/bench_pytorch.py run on the same machine with 2 threads.

            Example: radstream benchmark engine --threads 2
            """)

    @Option(help: "Threads: the engine's workers, and OpenBLAS's own threads for the direct sgemm.") var threads = 2
    @Option(help: "Seconds to spend on each measurement.") var seconds = 3.0
    @Flag(help: "Measure only the reference network (for profiling).") var networkOnly = false
    @Flag(help: "Print the figures as one JSON document (progress to standard error) instead of tables.") var json = false

    func run() throws {
        EngineWorkers.setCount(threads)
        let report = TablesOutput("engine benchmark: \(threads) engine threads, OpenBLAS's \(OpenBLASKernels.coreName) kernels, ~\(seconds) s per figure", json: json)
        if !networkOnly {
            let sgemmRate = try measureSgemm(report)
            try measureConvolutions(sgemmGFLOPS: sgemmRate, report)
        }
        measureNetwork(report)
        try report.finish()
    }

    private func rate(_ body: () -> Void) -> Double {
        BenchmarkClock.callsPerSecond(for: seconds, body)
    }

    private func measureSgemm(_ report: TablesOutput) throws -> Double {
        report.table(["sgemm m=n=k", "OpenBLAS direct (its own \(threads) threads) GFLOPS", "engine matmul GFLOPS", "ratio"])
        var reference = 0.0
        for size in [128, 256, 512] {
            let a = Tensor(shape: [size, size], data: (0..<(size * size)).map { Float($0 % 7) * 0.1 })
            let b = Tensor(shape: [size, size], data: (0..<(size * size)).map { Float($0 % 5) * 0.1 })
            var c = [Float](repeating: 0, count: size * size)
            let flops = 2 * Double(size * size * size)
            let direct = rate {
                a.data.withUnsafeBufferPointer { a in
                    b.data.withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer {
                            BLAS.openBLASSgemm(size: size, a: a.baseAddress!, b: b.baseAddress!, c: $0.baseAddress!, threads: threads)
                        }
                    }
                }
            } * flops / 1e9
            let engine = rate { _ = a.matmul(b) } * flops / 1e9
            reference = max(reference, direct)
            report.row(["\(size)", "\(String(format: "%.1f", direct))", "\(String(format: "%.1f", engine))", "\(String(format: "%.2f", engine / direct))"])
        }
        return reference
    }

    private func measureConvolutions(sgemmGFLOPS: Double, _ report: TablesOutput) throws {
        report.table(["conv2d (batch 128, 3×3, padding 1)", "forward GFLOPS", "share of sgemm", "forward+backward GFLOPS", "share of sgemm (forward+backward)"])
        var generator = SeededGenerator(seed: 1)
        for (channelsIn, channelsOut, side, stride) in [(1, 16, 28, 1), (16, 16, 28, 1), (16, 32, 28, 2), (32, 64, 14, 2), (64, 64, 7, 1)] {
            // The stem's input is the images: as in the network, it wants no gradient.
            let wantsInputGradient = channelsIn > 1
            let input = Tensor(shape: [128, channelsIn, side, side], data: (0..<(128 * channelsIn * side * side)).map { _ in generator.normal() },
                               requiresGrad: wantsInputGradient)
            let weight = Tensor.kaimingNormal([channelsOut, channelsIn, 3, 3], fanIn: channelsIn * 9, using: &generator)
            let outSide = (side + 2 - 3) / stride + 1
            let flops = 2 * Double(128 * channelsOut * channelsIn * 9 * outSide * outSide)
            let inference = Tensor(shape: input.shape, data: input.data)
            let forward = rate { _ = inference.conv2d(weight.detached(), stride: stride, padding: 1) } * flops / 1e9
            // Forward then backward (the input's and the weight's gradients: twice the forward's
            // work; the weight's alone for the stem), counted as three (two) times the forward's FLOPs.
            let backward = rate {
                let output = input.conv2d(weight, stride: stride, padding: 1)
                output.sum().backward()
                input.zeroGrad()
                weight.zeroGrad()
            } * (wantsInputGradient ? 3 : 2) * flops / 1e9
            report.row(["\(channelsIn)→\(channelsOut), \(side)², stride \(stride)", "\(String(format: "%.1f", forward))", "\(Int(100 * forward / sgemmGFLOPS))%", "\(String(format: "%.1f", backward))", "\(Int(100 * backward / sgemmGFLOPS))%"])
        }
    }

    private func measureNetwork(_ report: TablesOutput) {
        let network = ResidualCNN(seed: 1)
        var generator = SeededGenerator(seed: 2)
        func batch(_ size: Int) -> Tensor {
            Tensor(shape: [size, 1, 28, 28], data: (0..<(size * 784)).map { _ in generator.unit() })
        }
        let trainingBatch = batch(128)
        var targets = [Float](repeating: 0, count: 256)
        for row in 0..<128 { targets[row * 2 + row % 2] = 1 }
        let labels = Tensor(shape: [128, 2], data: targets)
        var optimizer = AdamW(parameters: Array(network.parameters.values), learningRate: 1e-3, weightDecay: 0)
        let training = rate {
            let loss = network(trainingBatch, training: true).crossEntropy(targets: labels)
            loss.backward()
            optimizer.step()
        } * 128
        // Inference with weights that record no graph, as the daemon runs it.
        let frozen = network.frozen()
        let one = batch(1), many = batch(256)
        let single = rate { _ = frozen(one, training: false) }
        let batched = rate { _ = frozen(many, training: false) } * 256
        // The same through allocation-free plans: buffers made once, the input copied in.
        func planned(_ input: Tensor) throws -> Double {
            let size = input.shape[0]
            let plan = try ResidualCNN.InferencePlan(network: frozen, batch: size, side: 28)
            let logits = UnsafeMutableBufferPointer<Float>.allocate(capacity: size * 2)
            defer { logits.deallocate() }
            return rate {
                _ = plan.input.update(fromContentsOf: input.data)
                plan.run(into: logits)
            } * Double(size)
        }
        report.table(["reference network (\(network.parameterCount) parameters)", "images/s"])
        report.row(["training, batch 128, Adam", "\(Int(training))"])
        report.row(["inference, batch 1", "\(Int(single))"])
        report.row(["inference, batch 256", "\(Int(batched))"])
        report.row(["inference, batch 1, allocation-free plan", "\((try? planned(one)).map { String(Int($0)) } ?? "-")"])
        report.row(["inference, batch 256, allocation-free plan", "\((try? planned(many)).map { String(Int($0)) } ?? "-")"])
    }
}
