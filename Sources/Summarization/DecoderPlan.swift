import Foundation
import TensorEngine

/// The decoder's weights as plain arrays, read once from a model whose weights are fixed: what
/// `DecoderPlan` multiplies by.
struct DecoderWeights: Sendable {
    struct Linear: Sendable {
        /// (inputs, outputs), row-major, as the checkpoint holds it.
        let weight: [Float], bias: [Float]
        let inputs: Int, outputs: Int
    }

    struct Norm: Sendable {
        let scale: [Float], shift: [Float]
    }

    struct Layer: Sendable {
        let attentionNorm: Norm, qkv: Linear, attentionOut: Linear
        let crossNorm: Norm, crossQuery: Linear, crossKeysAndValues: Linear, crossOut: Linear
        let feedForwardNorm: Norm, feedForwardIn: Linear, feedForwardOut: Linear
    }

    let embedding: [Float], position: [Float]
    /// Eᵀ (width, vocabulary).
    let outputProjection: [Float]
    let layers: [Layer]
    let finalNorm: Norm
    let copyQuery: Linear, copyGate: Linear

    init(_ parameters: [String: Tensor], outputProjection: Tensor, layers: Int) {
        func linear(_ name: String) -> Linear {
            let weight = parameters["\(name).weight"]!
            return Linear(weight: weight.data, bias: parameters["\(name).bias"]!.data, inputs: weight.shape[0], outputs: weight.shape[1])
        }
        func norm(_ name: String) -> Norm { Norm(scale: parameters["\(name).weight"]!.data, shift: parameters["\(name).bias"]!.data) }
        embedding = parameters["embedding"]!.data
        position = parameters["position"]!.data
        self.outputProjection = outputProjection.data
        self.layers = (0..<layers).map { layer in
            let name = "decoder.\(layer)"
            return Layer(attentionNorm: norm("\(name).attention_norm"), qkv: linear("\(name).attention.qkv"),
                         attentionOut: linear("\(name).attention.out"), crossNorm: norm("\(name).cross_norm"),
                         crossQuery: linear("\(name).cross.q"), crossKeysAndValues: linear("\(name).cross.kv"),
                         crossOut: linear("\(name).cross.out"), feedForwardNorm: norm("\(name).feed_forward_norm"),
                         feedForwardIn: linear("\(name).feed_forward.in"), feedForwardOut: linear("\(name).feed_forward.out"))
        }
        finalNorm = norm("decoder.norm")
        copyQuery = linear("copy.query")
        copyGate = linear("copy.gate")
    }
}

/// The decoder at inference on buffers made once for the whole decoding: each layer's keys and
/// values of every row's tokens so far and of its source, and the activations of one step. A
/// step feeds tokens at given positions of given rows — one per row still going when decoding,
/// every token of every row at once when scoring what is already written (the keys and values of
/// a step's tokens are all stored before any attends, and a token attends to its row's positions
/// up to its own). It computes what `SummarizerTransformer.step` computes on the graph (a test
/// holds them to 1e-5), without a tensor, a graph node or an allocation per step: the graph's
/// per-operation arrays and copies were most of a step's time. Single-threaded: callers run one
/// plan per core.
final class DecoderPlan {
    let rows: Int
    /// Tokens a step may feed.
    let capacity: Int
    private let weights: DecoderWeights
    private let width: Int, heads: Int, feedForward: Int, vocabulary: Int, maximumLength: Int
    /// The source each row reads, and each source's length and which of its positions are real.
    private let sourceOfRow: [Int]
    private let sourceLength: Int
    private let realPosition: [Bool]
    /// Each source's word ids (what the copy head copies), when it may copy.
    private let sourceWords: [[Int]]?
    /// Encoder states, (sources·sourceLength, width).
    private let sourceStates: UnsafeMutablePointer<Float>
    /// Per layer, the source's keys and values, (sources·sourceLength, 2·width): a key, then its value.
    private let crossKeysAndValues: [UnsafeMutablePointer<Float>]
    /// Per layer, every row's keys and values so far, (rows·maximumLength, 2·width).
    private let selfKeysAndValues: [UnsafeMutablePointer<Float>]
    // One step's activations, a row per row still going.
    private let x, normed, attended, projected, query, qkv, inner, scores, copyWeights, gateInput: UnsafeMutablePointer<Float>
    private let gates: UnsafeMutablePointer<Float>
    /// The step's next-token distributions, (tokens fed, vocabulary).
    private let distributions: UnsafeMutablePointer<Float>
    private var allocations: [(UnsafeMutablePointer<Float>, Int)] = []

    /// A plan for `sourceOfRow.count` rows, row i reading source `sourceOfRow[i]` of `memory`,
    /// whose steps feed at most `capacity` tokens (by default one per row).
    init(model: SummarizerTransformer, weights: DecoderWeights, memory: SummarizerTransformer.Memory, sourceOfRow: [Int],
         capacity: Int? = nil) {
        let configuration = model.configuration
        (width, heads, feedForward, vocabulary) = (configuration.width, configuration.heads, configuration.feedForward, configuration.vocabularySize)
        maximumLength = configuration.maximumLength
        self.weights = weights
        self.sourceOfRow = sourceOfRow
        rows = sourceOfRow.count
        self.capacity = capacity ?? sourceOfRow.count
        sourceLength = memory.length
        realPosition = memory.keyMask.data.map { $0 == 0 }
        sourceWords = memory.copies ? memory.sources : nil
        var made: [(UnsafeMutablePointer<Float>, Int)] = []
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            made.append((pointer, max(count, 1)))
            return pointer
        }
        let (d, sources, n) = (configuration.width, memory.batch, max(capacity ?? sourceOfRow.count, 1))
        let states = buffer(sources * memory.length * d)
        memory.states.data.withUnsafeBufferPointer { states.update(from: $0.baseAddress!, count: $0.count) }
        sourceStates = states
        crossKeysAndValues = weights.layers.map { layer in
            let kv = buffer(sources * memory.length * 2 * d)
            Self.linear(states, layer.crossKeysAndValues, rows: sources * memory.length, into: kv)
            return kv
        }
        selfKeysAndValues = weights.layers.map { _ in buffer(max(sourceOfRow.count, 1) * configuration.maximumLength * 2 * d) }
        (x, normed, attended, projected, query) = (buffer(n * d), buffer(n * d), buffer(n * d), buffer(n * d), buffer(n * d))
        qkv = buffer(n * 3 * d)
        inner = buffer(n * configuration.feedForward)
        scores = buffer(max(configuration.maximumLength, memory.length))
        copyWeights = buffer(n * memory.length)
        gateInput = buffer(n * 2 * d)
        gates = buffer(n)
        distributions = buffer(n * configuration.vocabularySize)
        allocations = made
    }

    deinit {
        for (pointer, count) in allocations {
            pointer.deinitialize(count: count)
            pointer.deallocate()
        }
    }

    /// Feeds `tokens[i]` to row `going[i]` at position `positions[i]` and returns the
    /// distribution of the token after each, (tokens.count, vocabulary), valid until the next
    /// step. Every earlier position of a row must have been fed, in this step or before.
    func step(_ tokens: [Int], going: [Int], positions: [Int]) -> UnsafeBufferPointer<Float> {
        precondition(tokens.count == going.count && going.count == positions.count && going.count <= capacity,
                     "\(tokens.count) tokens for \(going.count) rows at \(positions.count) positions; a step takes \(capacity)")
        precondition(positions.allSatisfy { $0 < maximumLength }, "past the last position")
        let (a, d) = (going.count, width)
        let scale = Float(d).squareRoot()
        weights.embedding.withUnsafeBufferPointer { embedding in
            weights.position.withUnsafeBufferPointer { table in
                for (i, token) in tokens.enumerated() {
                    for j in 0..<d { x[i * d + j] = embedding[token * d + j] * scale + table[positions[i] * d + j] }
                }
            }
        }
        for (layer, layerWeights) in weights.layers.enumerated() {
            // Self-attention over the row's own tokens so far (causal by construction).
            Self.norm(x, layerWeights.attentionNorm, rows: a, width: d, into: normed)
            Self.linear(normed, layerWeights.qkv, rows: a, into: qkv)
            let cache = selfKeysAndValues[layer]
            for (i, row) in going.enumerated() {
                let slot = cache + (row * maximumLength + positions[i]) * 2 * d
                slot.update(from: qkv + i * 3 * d + d, count: 2 * d)
            }
            for (i, row) in going.enumerated() {
                attend(query: qkv + i * 3 * d, keysAndValues: cache + row * maximumLength * 2 * d, count: positions[i] + 1, real: nil,
                       into: attended + i * d)
            }
            Self.linear(attended, layerWeights.attentionOut, rows: a, into: projected)
            for k in 0..<(a * d) { x[k] += projected[k] }
            // Cross-attention over the row's source.
            Self.norm(x, layerWeights.crossNorm, rows: a, width: d, into: normed)
            Self.linear(normed, layerWeights.crossQuery, rows: a, into: query)
            for (i, row) in going.enumerated() {
                let source = sourceOfRow[row]
                attend(query: query + i * d, keysAndValues: crossKeysAndValues[layer] + source * sourceLength * 2 * d,
                       count: sourceLength, real: source * sourceLength, into: attended + i * d)
            }
            Self.linear(attended, layerWeights.crossOut, rows: a, into: projected)
            for k in 0..<(a * d) { x[k] += projected[k] }
            // Feed-forward.
            Self.norm(x, layerWeights.feedForwardNorm, rows: a, width: d, into: normed)
            Self.linear(normed, layerWeights.feedForwardIn, rows: a, into: inner)
            let halfRoot = Float(1 / 2.0.squareRoot())
            for k in 0..<(a * feedForward) { inner[k] = inner[k] * (Foundation.erf(inner[k] * halfRoot) + 1) * 0.5 }
            Self.linear(inner, layerWeights.feedForwardOut, rows: a, into: projected)
            for k in 0..<(a * d) { x[k] += projected[k] }
        }
        Self.norm(x, weights.finalNorm, rows: a, width: d, into: normed)
        return nextTokenDistributions(going: going)
    }

    /// The vocabulary softmax mixed with the copy head's attention over the source by its gate,
    /// from the final states in `normed`.
    private func nextTokenDistributions(going: [Int]) -> UnsafeBufferPointer<Float> {
        let (a, d, v) = (going.count, width, vocabulary)
        weights.outputProjection.withUnsafeBufferPointer { projection in
            BLAS.sgemm(.none, .none, m: a, n: v, k: d, a: normed, b: projection.baseAddress!, c: distributions, parallel: false)
        }
        for i in 0..<a { Self.softmax(distributions + i * v, count: v) }
        guard let sourceWords else { return UnsafeBufferPointer(start: distributions, count: a * v) }
        Self.linear(normed, weights.copyQuery, rows: a, into: query)
        let scale = 1 / Float(d).squareRoot()
        for (i, row) in going.enumerated() {
            let source = sourceOfRow[row], states = sourceStates + source * sourceLength * d
            let weightsOut = copyWeights + i * sourceLength
            var largest = -Float.infinity
            for s in 0..<sourceLength where realPosition[source * sourceLength + s] {
                var dot: Float = 0
                for j in 0..<d { dot += query[i * d + j] * states[s * d + j] }
                weightsOut[s] = dot * scale
                largest = max(largest, weightsOut[s])
            }
            var total: Float = 0
            for s in 0..<sourceLength {
                weightsOut[s] = realPosition[source * sourceLength + s] ? Foundation.exp(weightsOut[s] - largest) : 0
                total += weightsOut[s]
            }
            for s in 0..<sourceLength { weightsOut[s] /= total }
            // The gate reads the state and what the copy attention reads.
            let input = gateInput + i * 2 * d
            input.update(from: normed + i * d, count: d)
            for j in 0..<d { input[d + j] = 0 }
            for s in 0..<sourceLength where weightsOut[s] != 0 {
                for j in 0..<d { input[d + j] += weightsOut[s] * states[s * d + j] }
            }
        }
        Self.linear(gateInput, weights.copyGate, rows: a, into: gates)
        for (i, row) in going.enumerated() {
            let g = 1 / (1 + Foundation.exp(-gates[i])), distribution = distributions + i * v
            for id in 0..<v { distribution[id] *= g }
            let words = sourceWords[sourceOfRow[row]]
            for s in 0..<sourceLength where realPosition[sourceOfRow[row] * sourceLength + s] {
                distribution[words[s]] += (1 - g) * copyWeights[i * sourceLength + s]
            }
        }
        return UnsafeBufferPointer(start: distributions, count: a * v)
    }

    /// softmax(q·kᵀ/√(width/heads))·v per head over `count` keys, skipping a source's padding
    /// (`real`: where its positions start in `realPosition`; nil: all real).
    private func attend(query: UnsafeMutablePointer<Float>, keysAndValues: UnsafeMutablePointer<Float>, count: Int, real: Int?,
                        into output: UnsafeMutablePointer<Float>) {
        let (d, depth) = (width, width / heads)
        let scale = 1 / Float(depth).squareRoot()
        for head in 0..<heads {
            let q = query + head * depth
            var largest = -Float.infinity
            for s in 0..<count where real.map({ realPosition[$0 + s] }) ?? true {
                let key = keysAndValues + s * 2 * d + head * depth
                var dot: Float = 0
                for j in 0..<depth { dot += q[j] * key[j] }
                scores[s] = dot * scale
                largest = max(largest, scores[s])
            }
            var total: Float = 0
            for s in 0..<count {
                scores[s] = real.map({ realPosition[$0 + s] }) ?? true ? Foundation.exp(scores[s] - largest) : 0
                total += scores[s]
            }
            let out = output + head * depth
            for j in 0..<depth { out[j] = 0 }
            for s in 0..<count where scores[s] != 0 {
                let value = keysAndValues + s * 2 * d + d + head * depth, weight = scores[s] / total
                for j in 0..<depth { out[j] += weight * value[j] }
            }
        }
    }

    /// (rows, inputs)·weight + bias into `output`, (rows, outputs).
    private static func linear(_ input: UnsafeMutablePointer<Float>, _ linear: DecoderWeights.Linear, rows: Int,
                               into output: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        for r in 0..<rows { linear.bias.withUnsafeBufferPointer { (output + r * linear.outputs).update(from: $0.baseAddress!, count: linear.outputs) } }
        linear.weight.withUnsafeBufferPointer { weight in
            BLAS.sgemm(.none, .none, m: rows, n: linear.outputs, k: linear.inputs, a: input, b: weight.baseAddress!, beta: 1, c: output,
                       parallel: false)
        }
    }

    /// Layer norm of each row (biased variance, ε 1e-5, as `Tensor.layerNorm`).
    private static func norm(_ input: UnsafeMutablePointer<Float>, _ norm: DecoderWeights.Norm, rows: Int, width: Int,
                             into output: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = input + r * width, out = output + r * width
            var sum: Float = 0
            for j in 0..<width { sum += row[j] }
            let mean = sum * (1 / Float(width))
            var squares: Float = 0
            for j in 0..<width { squares += (row[j] - mean) * (row[j] - mean) }
            let deviation = (squares * (1 / Float(width)) + 1e-5).squareRoot()
            for j in 0..<width { out[j] = (row[j] - mean) / deviation * norm.scale[j] + norm.shift[j] }
        }
    }

    private static func softmax(_ values: UnsafeMutablePointer<Float>, count: Int) {
        var largest = -Float.infinity
        for k in 0..<count { largest = max(largest, values[k]) }
        var total: Float = 0
        for k in 0..<count {
            values[k] = Foundation.exp(values[k] - largest)
            total += values[k]
        }
        for k in 0..<count { values[k] /= total }
    }
}
