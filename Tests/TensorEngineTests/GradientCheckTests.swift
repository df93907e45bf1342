import Testing
@testable import TensorEngine

/// Every operation's gradient against central finite differences, with sums in Double.
/// Inputs keep away from non-smooth points (ReLU at 0) and from where a function is undefined.
@Suite("Gradients: analytic against finite differences")
struct GradientCheckTests {
    enum Case: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case add, addBroadcast, subtractBroadcast, multiplyBroadcast, divide, matmul, matmulBatched, matmulSharedRight
        case exp, log, relu, sigmoid, tanh, sum, sumAxis0, sumAxis1, reshape, transpose, mean, meanAxis
        case softmax, logSoftmax, crossEntropy, crossEntropySmoothed
        case permute, sqrt, erf, concat, slice, embedding
        case conv2d, conv2dStridedPadded, conv2dOneImagePerChunk, conv2dUnevenChunks, conv2dPerImage, conv2dPerImageStrided
        case maxPool2d, averagePool2d, globalAveragePool, upsample2d
        case batchNorm, batchNormEvaluation, batchNormResidualReLU, layerNorm, groupNorm, groupNormSiLU, groupNormOneGroup, gelu, silu, dropout
        case planeBias, planeBiasPerImage
        case binaryCrossEntropy, klDivergence, attention, attentionMasked

        var testDescription: String { rawValue }

        /// Input shapes, and the range inputs are drawn from.
        var inputs: (shapes: [[Int]], range: ClosedRange<Float>) {
            switch self {
            case .add, .divide: ([[3, 4], [3, 4]], 0.5...2)
            case .addBroadcast, .multiplyBroadcast: ([[3, 4], [4]], -1...1)
            case .subtractBroadcast: ([[2, 3, 4], [3, 1]], -1...1)
            case .matmul: ([[3, 4], [4, 5]], -1...1)
            case .matmulBatched: ([[2, 3, 4], [2, 4, 5]], -1...1)
            case .matmulSharedRight: ([[2, 3, 4], [4, 5]], -1...1)
            case .log: ([[3, 4]], 0.5...2)
            case .crossEntropy, .crossEntropySmoothed, .klDivergence: ([[4, 5], [4, 5]], -2...2)
            case .sqrt: ([[3, 4]], 0.5...2)
            case .concat: ([[2, 3, 4], [2, 1, 4], [2, 2, 4]], -1...1)
            case .embedding: ([[5, 3]], -1...1)
            case .conv2d: ([[2, 3, 5, 5], [4, 3, 3, 3]], -1...1)
            case .conv2dStridedPadded: ([[1, 2, 6, 6], [3, 2, 3, 3]], -1...1)
            case .conv2dOneImagePerChunk: ([[2, 3, 5, 5], [4, 3, 3, 3]], -1...1)
            case .conv2dUnevenChunks: ([[3, 2, 5, 5], [3, 2, 3, 3]], -1...1)
            // Outputs of 12×12 pixels: multiplied image by image, the input gradient by the
            // flipped kernel (stride 1) or by col2im (stride 2).
            case .conv2dPerImage: ([[2, 2, 12, 12], [3, 2, 3, 3]], -1...1)
            case .conv2dPerImageStrided: ([[2, 2, 24, 24], [3, 2, 3, 3]], -1...1)
            case .maxPool2d, .averagePool2d, .globalAveragePool: ([[2, 2, 4, 4]], -1...1)
            case .upsample2d: ([[2, 2, 3, 2]], -1...1)
            case .batchNorm, .batchNormEvaluation, .groupNorm: ([[3, 4, 2, 2], [4], [4]], -1...1)
            case .groupNormSiLU, .groupNormOneGroup: ([[2, 6, 3, 2], [6], [6]], -1...1)
            case .planeBias: ([[2, 3, 2, 2], [3]], -1...1)
            case .planeBiasPerImage: ([[2, 3, 2, 2], [2, 3]], -1...1)
            case .batchNormResidualReLU: ([[3, 4, 2, 2], [4], [4], [3, 4, 2, 2]], -1...1)
            case .layerNorm: ([[3, 5], [5], [5]], -1...1)
            case .binaryCrossEntropy: ([[4, 3], [4, 3]], -2...2)
            case .attention, .attentionMasked: ([[2, 3, 4], [2, 5, 4], [2, 5, 2]], -1...1)
            default: ([[2, 3, 4]], -1...1)
            }
        }

        func apply(_ x: [Tensor]) -> Tensor {
            switch self {
            case .add, .addBroadcast: x[0] + x[1]
            case .subtractBroadcast: x[0] - x[1]
            case .multiplyBroadcast: x[0] * x[1]
            case .divide: x[0] / x[1]
            case .matmul, .matmulBatched, .matmulSharedRight: x[0].matmul(x[1])
            case .exp: x[0].exp()
            case .log: x[0].log()
            case .relu: x[0].relu()
            case .sigmoid: x[0].sigmoid()
            case .tanh: x[0].tanh()
            case .sum: x[0].sum()
            case .sumAxis0: x[0].sum(axis: 0)
            case .sumAxis1: x[0].sum(axis: 1)
            case .reshape: x[0].reshaped([4, 6])
            case .transpose: x[0].transposed()
            case .mean: x[0].mean()
            case .meanAxis: x[0].mean(axis: 2)
            case .softmax: x[0].softmax(axis: 2)
            case .logSoftmax: x[0].logSoftmax(axis: 1)
            // The targets (second input) are a distribution; gradients flow to both.
            case .crossEntropy: x[0].crossEntropy(targets: x[1].softmax(axis: 1))
            case .crossEntropySmoothed: x[0].crossEntropy(targets: x[1].softmax(axis: 1), labelSmoothing: 0.1)
            case .permute: x[0].permuted([2, 0, 1])
            case .sqrt: x[0].sqrt()
            case .erf: x[0].erf()
            case .concat: Tensor.concat(x, axis: 1)
            case .slice: x[0].slice(axis: 2, start: 1, length: 2)
            case .embedding: x[0].embedding([0, 2, 2, 4])
            case .conv2d: x[0].conv2d(x[1])
            case .conv2dStridedPadded: x[0].conv2d(x[1], stride: 2, padding: 1)
            // Column buffers too small for the whole batch: one image per sgemm, and 2 + 1.
            case .conv2dOneImagePerChunk: x[0].conv2d(x[1], stride: 1, padding: 1, columnLimit: 1)
            case .conv2dUnevenChunks: x[0].conv2d(x[1], stride: 2, padding: 1, columnLimit: 2 * 18 * 9)
            case .conv2dPerImage: x[0].conv2d(x[1], stride: 1, padding: 1)
            case .conv2dPerImageStrided: x[0].conv2d(x[1], stride: 2, padding: 1)
            case .maxPool2d: x[0].maxPool2d(kernel: 2)
            case .averagePool2d: x[0].averagePool2d(kernel: 2, stride: 1)
            case .upsample2d: x[0].upsampled2d(factor: 2)
            case .globalAveragePool: x[0].globalAveragePool()
            case .batchNorm: x[0].batchNorm(scale: x[1], shift: x[2]).output
            case .batchNormEvaluation:
                x[0].batchNorm(scale: x[1], shift: x[2], running: ([0.1, -0.2, 0, 0.3], [1, 0.5, 2, 0.8])).output
            case .batchNormResidualReLU: x[0].batchNorm(scale: x[1], shift: x[2], adding: x[3], relu: true).output
            case .layerNorm: x[0].layerNorm(scale: x[1], shift: x[2])
            case .groupNorm: x[0].groupNorm(groups: 2, scale: x[1], shift: x[2])
            case .groupNormSiLU: x[0].groupNorm(groups: 3, scale: x[1], shift: x[2], silu: true)
            case .groupNormOneGroup: x[0].groupNorm(groups: 1, scale: x[1], shift: x[2], silu: true)
            case .planeBias, .planeBiasPerImage: x[0].addingPlaneBias(x[1])
            case .gelu: x[0].gelu()
            case .silu: x[0].silu()
            case .dropout:
                { var generator = SeededGenerator(seed: 5); return x[0].dropout(rate: 0.3, using: &generator) }()
            case .binaryCrossEntropy: x[0].binaryCrossEntropy(logitsAgainst: x[1].sigmoid())
            case .klDivergence: x[0].logSoftmax(axis: 1).klDivergence(from: x[1].logSoftmax(axis: 1))
            case .attention: Tensor.attention(query: x[0], key: x[1], value: x[2])
            case .attentionMasked:
                Tensor.attention(query: x[0], key: x[1], value: x[2], causal: true, keyPadding: [false, false, false, false, true])
            }
        }
    }

    @Test(arguments: Case.allCases)
    func gradientMatchesFiniteDifferences(_ testCase: Case) {
        var random = SeededGenerator(seed: UInt64(Case.allCases.firstIndex(of: testCase)!) + 1)
        let (shapes, range) = testCase.inputs
        let inputs = shapes.map { shape in
            Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in
                var value = random.uniform(range.lowerBound, range.upperBound)
                if testCase == .relu && abs(value) < 0.05 { value += 0.1 }  // away from the kink
                return value
            }, requiresGrad: true)
        }
        if testCase == .maxPool2d {
            // Values 0.1 apart, shuffled: a nudge of h never changes which one is the maximum.
            var values = (0..<inputs[0].count).map { Float($0) * 0.1 }
            for i in values.indices.reversed() { values.swapAt(i, Int(random.next() % UInt64(i + 1))) }
            inputs[0].data = values
        }
        if testCase == .batchNormResidualReLU {
            // Residuals that put every sum before the ReLU at ±1: no nudge crosses its kink.
            let normalised = inputs[0].detached().batchNorm(scale: inputs[1].detached(), shift: inputs[2].detached()).output.data
            inputs[3].data = normalised.map { (random.next() % 2 == 0 ? 1 : -1) - $0 }
        }
        // The loss is a random weighting of the output, so that every output element matters.
        let output = testCase.apply(inputs)
        let weights = (0..<output.count).map { _ in random.uniform(-1, 1) }
        (output * Tensor(shape: output.shape, data: weights)).sum().backward()

        func loss() -> Double {
            let values = testCase.apply(inputs.map { Tensor(shape: $0.shape, data: $0.data) }).data
            return zip(values, weights).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let h: Float = 1e-2
        for (which, input) in inputs.enumerated() {
            let analytic = input.grad ?? []
            #expect(analytic.count == input.count, "input \(which) has a gradient")
            for index in input.data.indices {
                let saved = input.data[index]
                input.data[index] = saved + h
                let up = loss()
                input.data[index] = saved - h
                let down = loss()
                input.data[index] = saved
                let numeric = (up - down) / Double(2 * h)
                let error = abs(numeric - Double(analytic[index]))
                #expect(error <= 2e-3 + 2e-2 * abs(numeric),
                        "input \(which)[\(index)]: analytic \(analytic[index]), numeric \(numeric)")
            }
        }
    }
}
