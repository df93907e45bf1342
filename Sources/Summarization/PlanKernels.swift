import CVectorMath
import Foundation
import TensorEngine

/// The transformer's operations on raw buffers, shared by the encoder's and the decoder's
/// inference plans: each computes what the graph's operation computes (layer norm, GELU,
/// softmax, attention as `SummarizerTransformer` composes them), without a tensor. Their sums,
/// dot products and maxima run in SIMD lanes (`VectorKernels`, `radstream_attend`): a scalar
/// `Float` reduction adds one value per add's latency, and the attention's short dot products
/// were most of a step.
enum PlanKernels {
    /// Each token's embedding scaled by √width (as `SummarizerTransformer` embeds) plus its
    /// position's, into `output`, (tokens, width).
    static func embed(_ tokens: [Int], positions: [Int], _ weights: TransformerWeights, width: Int, into output: UnsafeMutablePointer<Float>) {
        let scale = Float(width).squareRoot()
        weights.embedding.withUnsafeBufferPointer { embedding in
            weights.position.withUnsafeBufferPointer { table in
                for (i, token) in tokens.enumerated() {
                    let (row, position) = (embedding.baseAddress! + token * width, table.baseAddress! + positions[i] * width)
                    for j in 0..<width { output[i * width + j] = row[j] * scale + position[j] }
                }
            }
        }
    }

    /// (rows, inputs)·weight + bias into `output`, (rows, outputs).
    static func linear(_ input: UnsafePointer<Float>, _ linear: TransformerWeights.Linear, rows: Int,
                       into output: UnsafeMutablePointer<Float>) {
        linear.weight.withUnsafeBufferPointer { weight in
            linear.bias.withUnsafeBufferPointer { bias in
                product(input, rows: rows, inputs: linear.inputs, weight: weight.baseAddress!, outputs: linear.outputs,
                        bias: bias.baseAddress!, into: output)
            }
        }
    }

    /// (rows, inputs)·weight (inputs × outputs) + bias (if any) into `output`: every product of
    /// the plans. In place of OpenBLAS where AVX-512 runs (`radstream_linear_avx512`: a step's few
    /// rows are not worth OpenBLAS's copy of the whole weight at every call), and then row by row
    /// the same whatever the rows beside it, which the decoder's sharing of prefixes relies on.
    static func product(_ input: UnsafePointer<Float>, rows: Int, inputs: Int, weight: UnsafePointer<Float>, outputs: Int,
                        bias: UnsafePointer<Float>?, into output: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        if ProcessorFeatures.avx512 {
            radstream_linear_avx512(input, Int32(rows), Int32(inputs), weight, Int32(outputs), bias, output)
            return
        }
        if let bias {
            for r in 0..<rows { (output + r * outputs).update(from: bias, count: outputs) }
        }
        BLAS.sgemm(.none, .none, m: rows, n: outputs, k: inputs, a: input, b: weight, beta: bias == nil ? 0 : 1, c: output,
                   parallel: false)
    }

    /// Layer norm of each row (biased variance, ε 1e-5, as `Tensor.layerNorm`).
    static func norm(_ input: UnsafePointer<Float>, _ norm: TransformerWeights.Norm, rows: Int, width: Int,
                     into output: UnsafeMutablePointer<Float>) {
        norm.scale.withUnsafeBufferPointer { scale in
            norm.shift.withUnsafeBufferPointer { shift in
                for r in 0..<rows {
                    let row = input + r * width, out = output + r * width
                    let mean = VectorKernels.sum(row, count: width) * (1 / Float(width))
                    let squares = VectorKernels.squaredDeviations(row, count: width, mean: mean)
                    let deviation = (squares * (1 / Float(width)) + 1e-5).squareRoot()
                    for j in 0..<width { out[j] = (row[j] - mean) / deviation * scale[j] + shift[j] }
                }
            }
        }
    }

    /// x += out(gelu(in(norm(x)))): a layer's pre-norm feed-forward block over `rows` rows,
    /// `normed` and `projected` (rows·width) and `inner` (rows·feed-forward width) its scratch.
    static func feedForward(_ x: UnsafeMutablePointer<Float>, norm normWeights: TransformerWeights.Norm, in first: TransformerWeights.Linear,
                            out second: TransformerWeights.Linear, rows: Int, width: Int, normed: UnsafeMutablePointer<Float>,
                            inner: UnsafeMutablePointer<Float>, projected: UnsafeMutablePointer<Float>) {
        norm(x, normWeights, rows: rows, width: width, into: normed)
        linear(normed, first, rows: rows, into: inner)
        // As `Tensor.gelu`, in vector lanes: within 3e-7·max(1, |x|) of its libm erf.
        VectorKernels.gelu(inner, count: rows * first.outputs)
        linear(inner, second, rows: rows, into: projected)
        add(projected, to: x, count: rows * width)
    }

    static func add(_ addend: UnsafePointer<Float>, to values: UnsafeMutablePointer<Float>, count: Int) {
        for k in 0..<count { values[k] += addend[k] }
    }

    /// The index of the first largest of `count` values (greedy decoding's argmax), in vector
    /// lanes where AVX-512 runs (`radstream_first_maximum`).
    static func firstMaximum(_ values: UnsafePointer<Float>, count: Int) -> Int {
        Int(radstream_first_maximum(values, Int32(count), ProcessorFeatures.avx512 ? 1 : 0))
    }

    static func softmax(_ values: UnsafeMutablePointer<Float>, count: Int) {
        VectorKernels.expShifted(values, count: count, shift: VectorKernels.maximum(values, count: count))
        let total = VectorKernels.sum(values, count: count)
        for k in 0..<count { values[k] /= total }
    }

    /// Key positions rounded up to whole registers: the columns of a block of key panels.
    static func keyColumns(_ count: Int) -> Int { (count + 15) / 16 * 16 }

    /// Where element j of head h of key s lies in a block of key panels with `columns` columns:
    /// each head's keys in panels of sixteen, a panel (depth, 16) — sixteen keys' element j side
    /// by side, the panel's rows one after the other.
    @inline(__always)
    static func panelIndex(head: Int, element j: Int, key s: Int, depth: Int, columns: Int) -> Int {
        ((head * (columns / 16) + s / 16) * depth + j) * 16 + s % 16
    }

    /// softmax(q·kᵀ/√depth)·v per head over `count` keys, those with `real[s]` false skipped (a
    /// source's padding); value s at `values + s·valueStride`, the keys in panels (`panelIndex`):
    /// sixteen keys' scores grow in one register, a broadcast element of the query at a time,
    /// reading each panel front to back, and each output grows in registers, value after value —
    /// where a dot product per key, reduced across its lanes, was most of a decoding step. In C
    /// (`radstream_attend`), built for AVX-512 where the processor has it: the Swift SIMD code
    /// it replaced was built for the baseline, and gave the same bits. `scores` holds
    /// `keyColumns(count)` floats, and after the call the last head's attention weights.
    static func attend(query: UnsafePointer<Float>, keyPanels keys: UnsafePointer<Float>, columns: Int,
                       values: UnsafePointer<Float>, valueStride: Int, count: Int, real: UnsafePointer<Bool>?, width: Int, heads: Int,
                       scores: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>, avx512: Bool = ProcessorFeatures.avx512) {
        radstream_attend(query, keys, Int32(columns), values, Int32(valueStride), Int32(count), real, Int32(width), Int32(heads), scores, output,
                         avx512 ? 1 : 0)
    }

    /// Writes key `s` (`width` floats) into a block of key panels with `columns` columns.
    static func storeKey(_ key: UnsafePointer<Float>, at s: Int, columns: Int, width: Int, heads: Int, into panels: UnsafeMutablePointer<Float>) {
        let depth = width / heads
        for head in 0..<heads {
            let column = panels + panelIndex(head: head, element: 0, key: s, depth: depth, columns: columns)
            for j in 0..<depth { column[j * 16] = key[head * depth + j] }
        }
    }

    /// Writes `count` keys of `width` (key s at `keys + s·stride`) into a block of key panels of
    /// `keyColumns(count)` columns, the padding zero.
    static func panelKeys(_ keys: UnsafePointer<Float>, stride: Int, count: Int, width: Int, heads: Int, into panels: UnsafeMutablePointer<Float>) {
        panels.initialize(repeating: 0, count: width * keyColumns(count))
        for s in 0..<count { storeKey(keys + s * stride, at: s, columns: keyColumns(count), width: width, heads: heads, into: panels) }
    }

    /// Copies the panels that hold a block's first `count` keys (and whatever else those panels
    /// hold) into another block of the same shape.
    static func copyKeyPanels(_ source: UnsafePointer<Float>, count: Int, columns: Int, width: Int, heads: Int,
                              into target: UnsafeMutablePointer<Float>) {
        let (depth, used) = (width / heads, keyColumns(count) / 16)
        for head in 0..<heads {
            let offset = panelIndex(head: head, element: 0, key: 0, depth: depth, columns: columns)
            (target + offset).update(from: source + offset, count: used * depth * 16)
        }
    }
}
