import Foundation
import TensorEngine
import Testing
@testable import Summarization

/// The plans' attention over keys in panels is attention as a loop over keys computes it:
/// any count of keys (a panel part-filled, several panels), padding skipped, heads whose depth
/// fills whole registers and heads whose depth does not.
@Suite("Plan kernels")
struct PlanKernelsTests {
    /// softmax(q·kᵀ/√depth)·v per head, one key at a time.
    static func attention(query: [Float], keys: [[Float]], values: [[Float]], real: [Bool], heads: Int) -> [Float] {
        let depth = query.count / heads
        var output = [Float](repeating: 0, count: query.count)
        for head in 0..<heads {
            let range = (head * depth)..<((head + 1) * depth)
            let scores = keys.indices.map { s in
                real[s] ? zip(query[range], keys[s][range]).map { $0 * $1 }.reduce(0, +) / Float(depth).squareRoot() : -Float.infinity
            }
            let largest = scores.max()!
            let weights = scores.map { Foundation.exp($0 - largest) }
            let total = weights.reduce(0, +)
            for s in keys.indices { for j in range { output[j] += weights[s] / total * values[s][j] } }
        }
        return output
    }

    /// A plan's linear layer is the product and the bias as a loop computes them, whichever way
    /// it runs (`radstream_linear_avx512` where AVX-512 runs): row counts that fill its tiles of
    /// four and leave one to three, outputs in whole vectors, a part of one, a part past four
    /// vectors (65) and the vocabulary's 1,218; inputs of a width and a feed-forward's.
    @Test(arguments: [1, 3, 4, 6, 13], [(inputs: 128, outputs: 384), (inputs: 256, outputs: 128), (inputs: 128, outputs: 1218),
                                        (inputs: 7, outputs: 65), (inputs: 256, outputs: 1), (inputs: 5, outputs: 17)])
    func aLinearLayerIsItsProductAndBias(rows: Int, shape: (inputs: Int, outputs: Int)) {
        var generator = SeededGenerator(seed: UInt64(rows * 10_000 + shape.inputs * 10 + shape.outputs))
        let (inputs, outputs) = shape
        let input = (0..<(rows * inputs)).map { _ in generator.normal() }
        let linear = TransformerWeights.Linear(weight: (0..<(inputs * outputs)).map { _ in generator.normal() },
                                               bias: (0..<outputs).map { _ in generator.normal() }, inputs: inputs, outputs: outputs)
        var output = [Float](repeating: .nan, count: rows * outputs + 1)
        output[rows * outputs] = 42  // one past the last: never written
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { PlanKernels.linear(x.baseAddress!, linear, rows: rows, into: $0.baseAddress!) }
        }
        for r in 0..<rows {
            for o in 0..<outputs {
                let expected = (0..<inputs).reduce(Double(linear.bias[o])) { $0 + Double(input[r * inputs + $1]) * Double(linear.weight[$1 * outputs + o]) }
                #expect(abs(Double(output[r * outputs + o]) - expected) <= 1e-4 * max(1, abs(expected)), "row \(r), output \(o)")
            }
        }
        #expect(output[rows * outputs] == 42)
    }

    @Test(arguments: [(width: 128, heads: 4), (width: 24, heads: 3), (width: 128, heads: 1)], [1, 16, 17, 49])
    func attentionOverKeyPanelsIsAttentionKeyByKey(shape: (width: Int, heads: Int), count: Int) {
        var generator = SeededGenerator(seed: UInt64(count * 1000 + shape.width + shape.heads))
        let width = shape.width
        func vector() -> [Float] { (0..<width).map { _ in generator.normal() } }
        let query = vector(), keys = (0..<count).map { _ in vector() }, values = (0..<count).map { _ in vector() }
        let real = (0..<count).map { $0 == 0 || $0 % 5 != 3 }
        // Keys and values interleaved as the decoder's cross-attention keeps them.
        let keysAndValues = zip(keys, values).flatMap { $0 + $1 }
        let columns = PlanKernels.keyColumns(count)
        var panels = [Float](repeating: .nan, count: width * columns)
        keysAndValues.withUnsafeBufferPointer { kv in
            panels.withUnsafeMutableBufferPointer {
                PlanKernels.panelKeys(kv.baseAddress!, stride: 2 * width, count: count, width: width, heads: shape.heads, into: $0.baseAddress!)
            }
        }
        func attend(avx512: Bool) -> (output: [Float], scores: [Float]) {
            var scores = [Float](repeating: 0, count: columns), output = [Float](repeating: 0, count: width)
            keysAndValues.withUnsafeBufferPointer { kv in
                PlanKernels.attend(query: query, keyPanels: panels, columns: columns, values: kv.baseAddress! + width,
                                   valueStride: 2 * width, count: count, real: real, width: width, heads: shape.heads,
                                   scores: &scores, into: &output, avx512: avx512)
            }
            return (output, Array(scores.prefix(count)))
        }
        let (output, scores) = attend(avx512: false)
        let expected = Self.attention(query: query, keys: keys, values: values, real: real, heads: shape.heads)
        #expect(zip(output, expected).allSatisfy { abs($0 - $1) <= 1e-5 }, "largest difference \(zip(output, expected).map { abs($0 - $1) }.max()!)")
        #expect(zip(scores, real).allSatisfy { $1 || $0 == 0 } && abs(scores.reduce(0, +) - 1) <= 1e-5, "the last head's weights, none on padding")
        // The AVX-512 build sums in the same order and fuses no product into its sum; only its
        // exp (radstream_exp_shifted's, within 2 ulp of the baseline's) differs.
        if ProcessorFeatures.avx512 {
            let wide = attend(avx512: true)
            #expect(zip(wide.output + wide.scores, output + scores).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) })
        }
    }

    /// A key stored into a block one step at a time lands where the whole block written at once
    /// puts it, and copying a block's first panels carries the keys a beam keeps.
    @Test func keysStoredOneByOneAndCopiedAreTheBlocksKeys() {
        let (width, heads, count, columns) = (64, 4, 20, PlanKernels.keyColumns(40))
        let keys = (0..<(count * width)).map { Float($0) }
        var whole = [Float](repeating: 0, count: width * PlanKernels.keyColumns(count))
        var grown = [Float](repeating: 0, count: width * columns), copied = grown
        keys.withUnsafeBufferPointer { keys in
            PlanKernels.panelKeys(keys.baseAddress!, stride: width, count: count, width: width, heads: heads, into: &whole)
            for s in 0..<count {
                PlanKernels.storeKey(keys.baseAddress! + s * width, at: s, columns: columns, width: width, heads: heads, into: &grown)
            }
        }
        PlanKernels.copyKeyPanels(grown, count: count, columns: columns, width: width, heads: heads, into: &copied)
        let depth = width / heads
        for head in 0..<heads {
            for s in 0..<count {
                for j in 0..<depth {
                    let value = keys[s * width + head * depth + j]
                    #expect(whole[PlanKernels.panelIndex(head: head, element: j, key: s, depth: depth, columns: PlanKernels.keyColumns(count))] == value)
                    #expect(copied[PlanKernels.panelIndex(head: head, element: j, key: s, depth: depth, columns: columns)] == value)
                }
            }
        }
    }
}
