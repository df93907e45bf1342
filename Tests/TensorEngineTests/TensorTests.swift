import Foundation
import Testing
@testable import TensorEngine

@Suite("Tensor values and the graph")
struct TensorTests {
    @Test func forwardValues() {
        let a = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3], data: [10, 20, 30])
        #expect((a + b).data == [11, 22, 33, 14, 25, 36])
        #expect(a.sum(axis: 0).data == [5, 7, 9] && a.sum(axis: 0).shape == [1, 3])
        #expect(a.sum(axis: 1).data == [6, 15])
        #expect(a.transposed().data == [1, 4, 2, 5, 3, 6] && a.transposed().shape == [3, 2])
        #expect(a.matmul(a.transposed()).data == [14, 32, 32, 77])
        let probabilities = a.softmax(axis: 1)
        #expect(abs(probabilities.sum(axis: 1).data[0] - 1) < 1e-6)
    }

    /// Both sides stretched, on different axes: each output reads the right element of each input.
    @Test(arguments: [([2, 1, 4], [3, 1]), ([1], [2, 3]), ([4, 1, 3, 1], [5, 1, 1]), ([2, 3, 1, 1], [1, 3, 5, 5])])
    func broadcastingMatchesTheDefinition(left: [Int], right: [Int]) {
        let a = Tensor(shape: left, data: (0..<left.reduce(1, *)).map { Float($0) })
        let b = Tensor(shape: right, data: (0..<right.reduce(1, *)).map { Float($0) * 100 })
        let sum = a + b
        let rank = sum.rank
        let l = [Int](repeating: 1, count: rank - left.count) + left, r = [Int](repeating: 1, count: rank - right.count) + right
        func flat(_ coordinate: [Int], _ shape: [Int]) -> Int {
            zip(coordinate, shape).reduce(0) { $0 * $1.1 + ($1.1 == 1 ? 0 : $1.0) }
        }
        for index in 0..<sum.count {
            var coordinate = [Int](repeating: 0, count: rank), rest = index
            for axis in stride(from: rank - 1, through: 0, by: -1) { coordinate[axis] = rest % sum.shape[axis]; rest /= sum.shape[axis] }
            #expect(sum.data[index] == a.data[flat(coordinate, l)] + b.data[flat(coordinate, r)])
        }
    }

    /// Chunking the batch for wider sgemms changes nothing in the result.
    @Test func convolutionIsTheSameWhateverTheChunking() {
        var generator = SeededGenerator(seed: 8)
        let input = Tensor(shape: [5, 3, 7, 7], data: (0..<735).map { _ in generator.normal() })
        let weight = Tensor(shape: [4, 3, 3, 3], data: (0..<108).map { _ in generator.normal() })
        let whole = input.conv2d(weight, stride: 2, padding: 1)
        for limit in [1, 27 * 16 * 2, 27 * 16 * 3] {
            let chunked = input.conv2d(weight, stride: 2, padding: 1, columnLimit: limit)
            #expect(zip(whole.data, chunked.data).allSatisfy { abs($0 - $1) < 1e-5 }, "column limit \(limit)")
        }
        // Against the definition, for one output element.
        var expected: Float = 0
        for c in 0..<3 { for ky in 0..<3 { for kx in 0..<3 {
            let (y, x) = (2 * 2 - 1 + ky, 2 * 3 - 1 + kx)
            if (0..<7).contains(y) && (0..<7).contains(x) { expected += input.data[((4 * 3 + c) * 7 + y) * 7 + x] * weight.data[((1 * 3 + c) * 3 + ky) * 3 + kx] }
        } } }
        #expect(abs(whole.data[((4 * 4 + 1) * 4 + 2) * 4 + 3] - expected) < 1e-4)
    }

    /// The backward pass splits chunks among workers, each summing its own weight gradient:
    /// two workers over one-image chunks give the gradients of one worker over one chunk.
    @Test func convolutionGradientsAreTheSameWhateverTheWorkers() {
        func gradients(workers: Int, columnLimit: Int) -> (input: [Float], weight: [Float]) {
            var generator = SeededGenerator(seed: 9)
            let input = Tensor(shape: [5, 3, 7, 7], data: (0..<735).map { _ in generator.normal() }, requiresGrad: true)
            let weight = Tensor(shape: [4, 3, 3, 3], data: (0..<108).map { _ in generator.normal() }, requiresGrad: true)
            EngineWorkers.with(workers) {
                let output = input.conv2d(weight, stride: 2, padding: 1, columnLimit: columnLimit)
                (output * output).sum().backward()
            }
            return (input.grad!, weight.grad!)
        }
        let single = gradients(workers: 1, columnLimit: Tensor.columnBufferLimit)
        let split = gradients(workers: 2, columnLimit: 1)
        #expect(zip(single.input, split.input).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(zip(single.weight, split.weight).allSatisfy { abs($0 - $1) < 1e-3 * max(1, abs($0)) })
    }

    /// Batch norm splits its images among workers on large tensors: each plane's sums are
    /// computed the same way whoever computes them, and added up in one order, so the results
    /// are identical.
    @Test func batchNormIsTheSameWhateverTheWorkers() {
        func run(workers: Int) -> [[Float]] {
            var generator = SeededGenerator(seed: 10)
            let count = 4 * 6 * 64 * 64
            let input = Tensor(shape: [4, 6, 64, 64], data: (0..<count).map { _ in generator.normal(mean: 1, standardDeviation: 2) },
                               requiresGrad: true)
            let scale = Tensor(shape: [6], data: (0..<6).map { _ in generator.normal() }, requiresGrad: true)
            let shift = Tensor(shape: [6], data: (0..<6).map { _ in generator.normal() }, requiresGrad: true)
            return EngineWorkers.with(workers) {
                let (output, mean, variance) = input.batchNorm(scale: scale, shift: shift)
                (output * output).sum().backward()
                return [output.data, mean, variance, input.grad!, scale.grad!, shift.grad!]
            }
        }
        #expect(4 * 6 * 64 * 64 >= Tensor.parallelPassThreshold)
        #expect(run(workers: 1) == run(workers: 2))
    }

    /// Group norm's values against the definition computed in Double, fused SiLU included, and
    /// identical whether one worker or two share the images.
    @Test func groupNormIsWhatItDefinesAndTheSameWhateverTheWorkers() {
        var generator = SeededGenerator(seed: 11)
        let (n, c, side, groups) = (4, 8, 48, 4)
        let count = n * c * side * side
        let input = Tensor(shape: [n, c, side, side], data: (0..<count).map { _ in generator.normal(mean: 3, standardDeviation: 2) },
                           requiresGrad: true)
        let scale = Tensor(shape: [c], data: (0..<c).map { _ in generator.normal() }, requiresGrad: true)
        let shift = Tensor(shape: [c], data: (0..<c).map { _ in generator.normal() }, requiresGrad: true)
        func run(workers: Int) -> [[Float]] {
            EngineWorkers.with(workers) {
                for tensor in [input, scale, shift] { tensor.zeroGrad() }
                let output = input.groupNorm(groups: groups, scale: scale, shift: shift, silu: true)
                (output * output).sum().backward()
                return [output.data, input.grad!, scale.grad!, shift.grad!]
            }
        }
        let one = run(workers: 1)
        #expect(count >= Tensor.parallelPassThreshold && one == run(workers: 2))
        let inner = side * side, perGroup = c / groups
        var worst = 0.0
        for image in 0..<n {
            for group in 0..<groups {
                let start = (image * c + group * perGroup) * inner
                let values = input.data[start..<(start + perGroup * inner)].map(Double.init)
                let mean = values.reduce(0, +) / Double(values.count)
                let deviation = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count) + 1e-5).squareRoot()
                for (offset, value) in values.enumerated() {
                    let channel = group * perGroup + offset / inner
                    let z = (value - mean) / deviation * Double(scale.data[channel]) + Double(shift.data[channel])
                    worst = max(worst, abs(z / (1 + Foundation.exp(-z)) - Double(one[0][start + offset])))
                }
            }
        }
        #expect(worst < 1e-4, "largest difference \(worst)")
    }

    @Test func inferenceRecordsNoGraph() {
        let weights = Tensor(shape: [2, 2], data: [1, 0, 0, 1])
        let output = Tensor(shape: [1, 2], data: [3, 4]).matmul(weights).relu()
        #expect(!output.requiresGrad && output.operation == nil)
        let trained = Tensor(shape: [2, 2], data: [1, 0, 0, 1], requiresGrad: true)
        #expect(Tensor(shape: [1, 2], data: [3, 4]).matmul(trained).operation != nil)
    }

    @Test func gradientsAccumulateAcrossUsesOfATensor() {
        let x = Tensor(shape: [3], data: [1, 2, 3], requiresGrad: true)
        (x * x + x).sum().backward()  // d/dx (x² + x) = 2x + 1
        #expect(x.grad == [3, 5, 7])
    }

    /// A few steps of gradient descent on a separable problem lower the loss.
    @Test func logisticRegressionLearns() {
        var random = SeededGenerator(seed: 11)
        let points = (0..<64).map { _ in (random.uniform(-1, 1), random.uniform(-1, 1)) }
        let x = Tensor(shape: [64, 2], data: points.flatMap { [$0.0, $0.1] })
        let y = Tensor(shape: [64, 2], data: points.flatMap { $0.0 + $0.1 > 0 ? [0, 1] : [1, 0] })
        let w = Tensor(shape: [2, 2], data: [0.1, -0.1, 0.05, 0.02], requiresGrad: true)
        let b = Tensor(shape: [2], data: [0, 0], requiresGrad: true)
        var losses: [Float] = []
        for _ in 0..<50 {
            let loss = (x.matmul(w) + b).crossEntropy(targets: y)
            losses.append(loss.item)
            w.zeroGrad()
            b.zeroGrad()
            loss.backward()
            for p in [w, b] { p.data = zip(p.data, p.grad!).map { $0 - 1.0 * $1 } }
        }
        #expect(losses.last! < losses.first! * 0.5, "loss \(losses.first!) → \(losses.last!)")
    }
}
