import Foundation
import TensorEngine

/// The transformer's operations on raw buffers, shared by the encoder's and the decoder's
/// inference plans: each computes what the graph's operation computes (layer norm, GELU,
/// softmax, attention as `SummarizerTransformer` composes them), without a tensor.
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
                    var sum: Float = 0
                    for j in 0..<width { sum += row[j] }
                    let mean = sum * (1 / Float(width))
                    var squares: Float = 0
                    for j in 0..<width { squares += (row[j] - mean) * (row[j] - mean) }
                    let deviation = (squares * (1 / Float(width)) + 1e-5).squareRoot()
                    for j in 0..<width { out[j] = (row[j] - mean) / deviation * scale[j] + shift[j] }
                }
            }
        }
    }

    /// x·Φ(x), Φ by erf, as `Tensor.gelu`.
    static func gelu(_ values: UnsafeMutablePointer<Float>, count: Int) {
        let halfRoot = Float(1 / 2.0.squareRoot())
        for k in 0..<count { values[k] = values[k] * (Foundation.erf(values[k] * halfRoot) + 1) * 0.5 }
    }

    /// x += out(gelu(in(norm(x)))): a layer's pre-norm feed-forward block over `rows` rows,
    /// `normed` and `projected` (rows·width) and `inner` (rows·feed-forward width) its scratch.
    static func feedForward(_ x: UnsafeMutablePointer<Float>, norm normWeights: TransformerWeights.Norm, in first: TransformerWeights.Linear,
                            out second: TransformerWeights.Linear, rows: Int, width: Int, normed: UnsafeMutablePointer<Float>,
                            inner: UnsafeMutablePointer<Float>, projected: UnsafeMutablePointer<Float>) {
        norm(x, normWeights, rows: rows, width: width, into: normed)
        linear(normed, first, rows: rows, into: inner)
        gelu(inner, count: rows * first.outputs)
        linear(inner, second, rows: rows, into: projected)
        add(projected, to: x, count: rows * width)
    }

    static func add(_ addend: UnsafePointer<Float>, to values: UnsafeMutablePointer<Float>, count: Int) {
        for k in 0..<count { values[k] += addend[k] }
    }

    static func softmax(_ values: UnsafeMutablePointer<Float>, count: Int) {
        var largest = -Float.infinity
        for k in 0..<count { largest = max(largest, values[k]) }
        var total: Float = 0
        for k in 0..<count {
            values[k] = Foundation.exp(values[k] - largest)
            total += values[k]
        }
        for k in 0..<count { values[k] /= total }
    }

    /// softmax(q·kᵀ/√depth)·v per head over `count` keys, key s at `keys + s·stride` and its
    /// value at `values + s·stride`, those with `real[s]` false skipped (a source's padding);
    /// `scores` holds `count` floats, and after the call the last head's attention weights.
    static func attend(query: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int, count: Int,
                       real: UnsafePointer<Bool>?, width: Int, heads: Int, scores: UnsafeMutablePointer<Float>,
                       into output: UnsafeMutablePointer<Float>) {
        let depth = width / heads
        let scale = 1 / Float(depth).squareRoot()
        for head in 0..<heads {
            let q = query + head * depth
            var largest = -Float.infinity
            for s in 0..<count where real?[s] ?? true {
                let key = keys + s * stride + head * depth
                var dot: Float = 0
                for j in 0..<depth { dot += q[j] * key[j] }
                scores[s] = dot * scale
                largest = max(largest, scores[s])
            }
            var total: Float = 0
            for s in 0..<count {
                scores[s] = real?[s] ?? true ? Foundation.exp(scores[s] - largest) : 0
                total += scores[s]
            }
            for s in 0..<count { scores[s] /= total }
            let out = output + head * depth
            for j in 0..<depth { out[j] = 0 }
            for s in 0..<count where scores[s] != 0 {
                let value = values + s * stride + head * depth
                for j in 0..<depth { out[j] += scores[s] * value[j] }
            }
        }
    }
}
