import Foundation
import TensorEngine

extension SummarizerTransformer {
    /// The encoder at inference: each source encoded on its own (no padding to attend past) on
    /// buffers made once for the call, then laid out as the graph's padded batch — what
    /// `encode(padded(sources))` gives at every real position (a test holds them to 1e-5), the
    /// padding's states zero and masked. Sources must not be empty.
    func encodeOnPlan(_ sources: [[Int]]) -> Memory {
        let (d, h, f) = (configuration.width, configuration.heads, configuration.feedForward)
        let padded = Self.padded(sources)
        let (batch, length) = (padded.count, padded[0].count)
        let weights = inferenceWeights
        var states = [Float](repeating: 0, count: batch * length * d)
        let longest = sources.map(\.count).max() ?? 0
        let columns = PlanKernels.keyColumns(longest)
        let buffers = UnsafeMutablePointer<Float>.allocate(capacity: max(1, longest * (7 * d + f) + columns * (d + 1)))
        defer { buffers.deallocate() }
        let (x, normed, qkv, attended, projected) = (buffers, buffers + longest * d, buffers + 2 * longest * d,
                                                     buffers + 5 * longest * d, buffers + 6 * longest * d)
        let (inner, keys) = (buffers + 7 * longest * d, buffers + 7 * longest * d + longest * f)
        let scores = keys + columns * d
        for (row, source) in sources.enumerated() {
            let n = source.count
            precondition(n > 0 && n <= configuration.maximumLength, "a source of \(n) tokens")
            PlanKernels.embed(source, positions: Array(0..<n), weights, width: d, into: x)
            for layer in weights.encoderLayers {
                PlanKernels.norm(x, layer.attentionNorm, rows: n, width: d, into: normed)
                PlanKernels.linear(normed, layer.qkv, rows: n, into: qkv)
                PlanKernels.panelKeys(qkv + d, stride: 3 * d, count: n, width: d, heads: h, into: keys)
                for t in 0..<n {
                    PlanKernels.attend(query: qkv + t * 3 * d, keyPanels: keys, columns: PlanKernels.keyColumns(n), values: qkv + 2 * d,
                                       valueStride: 3 * d, count: n, real: nil, width: d, heads: h, scores: scores, into: attended + t * d)
                }
                PlanKernels.linear(attended, layer.attentionOut, rows: n, into: projected)
                PlanKernels.add(projected, to: x, count: n * d)
                PlanKernels.feedForward(x, norm: layer.feedForwardNorm, in: layer.feedForwardIn, out: layer.feedForwardOut, rows: n, width: d,
                                        normed: normed, inner: inner, projected: projected)
            }
            states.withUnsafeMutableBufferPointer { states in
                PlanKernels.norm(x, weights.encoderNorm, rows: n, width: d, into: states.baseAddress! + row * length * d)
            }
        }
        let mask = padded.flatMap { row in row.map { $0 == ReportVocabulary.padding ? Float(-1e9) : 0 } }
        return Memory(states: Tensor(shape: [batch * length, d], data: states), batch: batch, length: length,
                      keyMask: Tensor(shape: [batch, 1, 1, length], data: mask), sources: padded, copies: true)
    }
}
