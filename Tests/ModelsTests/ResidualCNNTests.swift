import Testing
import TensorEngine
@testable import Models

@Suite("The reference residual CNN")
struct ResidualCNNTests {
    @Test func shapeAndSize() {
        let network = ResidualCNN(seed: 1)
        #expect((70_000...80_000).contains(network.parameterCount), "\(network.parameterCount) parameters")
        let logits = network(Tensor.zeros([3, 1, 28, 28]), training: false)
        #expect(logits.shape == [3, 2])
    }

    @Test func theSameSeedGivesTheSameNetwork() {
        let a = ResidualCNN(seed: 9), b = ResidualCNN(seed: 9), c = ResidualCNN(seed: 10)
        #expect(a.parameters["stage2.conv1.weight"]!.data == b.parameters["stage2.conv1.weight"]!.data)
        #expect(a.parameters["stage2.conv1.weight"]!.data != c.parameters["stage2.conv1.weight"]!.data)
    }

    /// A few Adam steps on a tiny batch (bright top half vs bright bottom half) lower the loss.
    @Test func aFewTrainingStepsLowerTheLoss() {
        let network = ResidualCNN(configuration: .init(channels: [4, 8, 8]), seed: 3)
        var generator = SeededGenerator(seed: 4)
        var images: [Float] = [], targets: [Float] = []
        for i in 0..<16 {
            let top = i % 2 == 0
            for y in 0..<12 { for _ in 0..<12 { images.append((y < 6) == top ? 1 + generator.normal() * 0.1 : generator.normal() * 0.1) } }
            targets += top ? [1, 0] : [0, 1]
        }
        let x = Tensor(shape: [16, 1, 12, 12], data: images), y = Tensor(shape: [16, 2], data: targets)
        var optimizer = AdamW(parameters: Array(network.parameters.values), learningRate: 0.01, weightDecay: 0)
        var losses: [Float] = []
        for _ in 0..<15 {
            let loss = network(x, training: true).crossEntropy(targets: y)
            losses.append(loss.item)
            loss.backward()
            optimizer.step()
        }
        #expect(losses.last! < losses.first! * 0.5, "loss \(losses.first!) → \(losses.last!)")
    }
}

@Suite("The self-attention block of the ablation")
struct AttentionBlockTests {
    /// With its output projection at zero, the block is the identity: the network with attention
    /// starts from the same function as the one without.
    @Test func itStartsAsTheIdentity() {
        let plain = ResidualCNN(configuration: .init(channels: [4, 8, 8]), seed: 3)
        let attending = ResidualCNN(configuration: .init(channels: [4, 8, 8], attentionHeads: 2), seed: 3)
        for (name, parameter) in plain.parameters { attending.parameters[name]!.data = parameter.data }
        var generator = SeededGenerator(seed: 1)
        let input = Tensor(shape: [2, 1, 12, 12], data: (0..<288).map { _ in generator.normal() })
        let a = plain(input, training: false).data, b = attending(input, training: false).data
        #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(attending.parameterCount == plain.parameterCount + 8 * 2 + 24 * 8 + 24 + 8 * 8 + 8)
    }

    /// Gradients flow into the block: a few steps move its projections away from where they started.
    @Test func trainingReachesTheAttentionWeights() {
        let network = ResidualCNN(configuration: .init(channels: [4, 8, 8], attentionHeads: 2), seed: 3)
        var generator = SeededGenerator(seed: 2)
        let input = Tensor(shape: [4, 1, 12, 12], data: (0..<576).map { _ in generator.normal() })
        let targets = Tensor(shape: [4, 2], data: [1, 0, 0, 1, 1, 0, 0, 1])
        var optimizer = AdamW(parameters: Array(network.parameters.values), learningRate: 0.01)
        for _ in 0..<3 {
            network(input, training: true).crossEntropy(targets: targets).backward()
            optimizer.step()
        }
        #expect(network.parameters["attention.out.weight"]!.data.contains { $0 != 0 })
        #expect(network.parameters["attention.qkv.weight"]!.data != ResidualCNN(configuration: network.configuration, seed: 3)
            .parameters["attention.qkv.weight"]!.data)
    }
}
