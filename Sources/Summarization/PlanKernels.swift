import Foundation
import TensorEngine

/// The transformer's operations on raw buffers, shared by the encoder's and the decoder's
/// inference plans: each computes what the graph's operation computes (layer norm, GELU,
/// softmax, attention as `SummarizerTransformer` composes them), without a tensor. Their sums,
/// dot products and maxima run in SIMD lanes (`VectorKernels`): a scalar `Float` reduction adds
/// one value per add's latency, and the attention's short dot products were most of a step.
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
        guard rows > 0 else { return }
        linear.bias.withUnsafeBufferPointer { bias in
            for r in 0..<rows { (output + r * linear.outputs).update(from: bias.baseAddress!, count: linear.outputs) }
        }
        linear.weight.withUnsafeBufferPointer { weight in
            BLAS.sgemm(.none, .none, m: rows, n: linear.outputs, k: linear.inputs, a: input, b: weight.baseAddress!, beta: 1, c: output,
                       parallel: false)
        }
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

    static func softmax(_ values: UnsafeMutablePointer<Float>, count: Int) {
        VectorKernels.expShifted(values, count: count, shift: VectorKernels.maximum(values, count: count))
        let total = VectorKernels.sum(values, count: count)
        for k in 0..<count { values[k] /= total }
    }

    private typealias Lanes = SIMD16<Float>

    @inline(__always)
    private static func load(_ pointer: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(pointer).loadUnaligned(as: Lanes.self) }

    @inline(__always)
    private static func store(_ value: Lanes, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Lanes.self)
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
    /// where a dot product per key, reduced across its lanes, was most of a decoding step. The
    /// same sums in the same order as a loop over keys. `scores` holds `keyColumns(count)`
    /// floats, and after the call the last head's attention weights.
    static func attend(query: UnsafePointer<Float>, keyPanels keys: UnsafePointer<Float>, columns: Int,
                       values: UnsafePointer<Float>, valueStride: Int, count: Int, real: UnsafePointer<Bool>?, width: Int, heads: Int,
                       scores: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        let depth = width / heads
        let scale = 1 / Float(depth).squareRoot()
        for head in 0..<heads {
            let q = query + head * depth
            for chunk in stride(from: 0, to: count, by: 16) {
                let panel = keys + panelIndex(head: head, element: 0, key: chunk, depth: depth, columns: columns)
                var dots = Lanes()
                for j in 0..<depth { dots += Lanes(repeating: q[j]) * load(panel + j * 16) }
                store(dots * scale, scores + chunk)
            }
            var largest = -Float.infinity
            for s in 0..<count where real?[s] ?? true { largest = max(largest, scores[s]) }
            VectorKernels.expShifted(scores, count: count, shift: largest)
            var total: Float = 0
            for s in 0..<count {
                if let real, !real[s] { scores[s] = 0 }
                total += scores[s]
            }
            for s in 0..<count { scores[s] /= total }
            let out = output + head * depth, headValues = values + head * depth
            guard depth % 16 == 0 else {
                for j in 0..<depth { out[j] = 0 }
                for s in 0..<count where scores[s] != 0 {
                    for j in 0..<depth { out[j] += scores[s] * headValues[s * valueStride + j] }
                }
                continue
            }
            for chunk in stride(from: 0, to: depth, by: 16) {
                var sum = Lanes()
                for s in 0..<count where scores[s] != 0 { sum += Lanes(repeating: scores[s]) * load(headValues + s * valueStride + chunk) }
                store(sum, out + chunk)
            }
        }
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
