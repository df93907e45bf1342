import Foundation
import Testing
@testable import TensorEngine

/// RadStream's engine against PyTorch on two tiny networks (scripts/make_golden_fixtures.py):
/// the output, the loss, every parameter's gradient, and four AdamW steps.
@Suite("Golden tests against PyTorch")
struct GoldenTests {
    struct Golden {
        let file: Safetensors
        let parameters: [String: Tensor]

        init(_ name: String) throws {
            file = try Safetensors.read(contentsOf: SafetensorsTests.fixtures.appending(path: "golden_\(name).safetensors"))
            var parameters: [String: Tensor] = [:]
            for (key, value) in file.tensors where key.hasPrefix("param.") {
                parameters[String(key.dropFirst(6))] = Tensor(shape: value.shape, data: value.data, requiresGrad: true)
            }
            self.parameters = parameters
        }

        subscript(name: String) -> Tensor { parameters[name]! }
        func tensor(_ name: String) -> Tensor { file.tensors[name]! }

        /// One-hot rows for integer class labels stored as floats.
        func oneHot(_ name: String, classes: Int) -> Tensor {
            let labels = tensor(name).data.map { Int($0) }
            var data = [Float](repeating: 0, count: labels.count * classes)
            for (row, label) in labels.enumerated() { data[row * classes + label] = 1 }
            return Tensor(shape: [labels.count, classes], data: data)
        }
    }

    static func linear(_ x: Tensor, _ golden: Golden, _ name: String) -> Tensor {
        x.matmul(golden["\(name).weight"].transposed()) + golden["\(name).bias"]
    }

    static func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-4) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    }

    func check(_ golden: Golden, classes: Int, forward: () -> Tensor) {
        let targets = golden.oneHot("target", classes: classes)
        let output = forward()
        #expect(Self.close(output.data, golden.tensor("output").data), "output")
        let loss = output.crossEntropy(targets: targets)
        #expect(Self.close([loss.item], golden.tensor("loss").data), "loss \(loss.item) vs \(golden.tensor("loss").data)")
        loss.backward()
        for (name, parameter) in golden.parameters.sorted(by: { $0.key < $1.key }) {
            #expect(Self.close(parameter.grad ?? [], golden.tensor("grad.\(name)").data), "gradient of \(name)")
            parameter.zeroGrad()
        }
        var optimizer = AdamW(parameters: golden.parameters.sorted(by: { $0.key < $1.key }).map(\.value),
                              learningRate: 0.01, weightDecay: 0.01)
        var losses: [Float] = []
        for _ in 0..<4 {
            let stepLoss = forward().crossEntropy(targets: targets)
            losses.append(stepLoss.item)
            stepLoss.backward()
            optimizer.step()
        }
        #expect(Self.close(losses, golden.tensor("adamw_losses").data, tolerance: 2e-4), "AdamW losses \(losses)")
    }

    @Test func tinyCNN() throws {
        let golden = try Golden("cnn")
        let images = golden.tensor("input")
        check(golden, classes: 3) {
            let convolved = images.conv2d(golden["conv.weight"], padding: 1)
            let normalised = convolved.batchNorm(scale: golden["bn.weight"], shift: golden["bn.bias"]).output
            let pooled = normalised.relu().maxPool2d(kernel: 2)
            return Self.linear(pooled.reshaped([pooled.shape[0], 16]), golden, "fc")
        }
    }

    @Test func tinyTransformerDecoder() throws {
        let golden = try Golden("decoder")
        let tokens = golden.tensor("input").data.map { Int($0) }
        check(golden, classes: 7) {
            var x = golden["embed.weight"].embedding(tokens) + golden["position"]
            x = x + Tensor.attention(query: Self.linear(x, golden, "q"), key: Self.linear(x, golden, "k"),
                                     value: Self.linear(x, golden, "v"), causal: true)
            let h = x.layerNorm(scale: golden["norm.weight"], shift: golden["norm.bias"])
            x = x + Self.linear(Self.linear(h, golden, "up").gelu(), golden, "down")
            return Self.linear(x, golden, "out")
        }
    }
}
