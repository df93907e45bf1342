import TensorEngine

/// What decoding one token per step keeps from the steps before: each decoder layer's keys and
/// values of the tokens so far, and of the source (computed once per source, not once per step).
/// With it a step costs one position's work, where rerunning the decoder over the whole prefix
/// cost the prefix's length times as much. Inference only: nothing here records a graph. This is
/// decoding on the graph, what the `DecoderPlan` (which decoding runs on) is held to in tests.
struct DecoderCache {
    /// One row per hypothesis being decoded.
    private(set) var memory: SummarizerTransformer.Memory
    /// Per layer, (rows, heads, sourceLength, width/heads).
    private(set) var sourceKeys: [Tensor], sourceValues: [Tensor]
    /// Per layer, (rows, heads, length, width/heads); empty before the first step.
    private(set) var keys: [Tensor?], values: [Tensor?]
    /// Tokens fed so far (the position of the next one).
    private(set) var length = 0

    init(model: SummarizerTransformer, memory: SummarizerTransformer.Memory) {
        self.memory = memory
        let pairs = (0..<model.configuration.decoderLayers).map { model.crossKeysAndValues(memory, layer: $0) }
        sourceKeys = pairs.map(\.0)
        sourceValues = pairs.map(\.1)
        keys = Array(repeating: nil, count: pairs.count)
        values = keys
    }

    /// The cache of the given rows, in that order (a row may repeat): the hypotheses a beam keeps.
    func selecting(_ rows: [Int]) -> DecoderCache {
        var copy = self
        copy.memory = memory.selecting(rows)
        copy.sourceKeys = sourceKeys.map { $0.selectingRows(rows) }
        copy.sourceValues = sourceValues.map { $0.selectingRows(rows) }
        copy.keys = keys.map { $0?.selectingRows(rows) }
        copy.values = values.map { $0?.selectingRows(rows) }
        return copy
    }

    fileprivate mutating func append(layer: Int, key: Tensor, value: Tensor) -> (Tensor, Tensor) {
        keys[layer] = keys[layer].map { Tensor.concat([$0, key], axis: 2) } ?? key
        values[layer] = values[layer].map { Tensor.concat([$0, value], axis: 2) } ?? value
        return (keys[layer]!, values[layer]!)
    }

    fileprivate mutating func advance() { length += 1 }
}

extension SummarizerTransformer {
    /// Feeds one token per row at position `cache.length` and returns each row's distribution
    /// of the token after it: the same as `decode` over the whole prefix, one position at a time.
    func step(_ tokens: [Int], cache: inout DecoderCache) -> [[Float]] {
        let (rows, d, h) = (tokens.count, configuration.width, configuration.heads)
        precondition(rows == cache.memory.batch, "\(rows) tokens for \(cache.memory.batch) rows")
        precondition(cache.length < configuration.maximumLength, "past the last position")
        let position = parameters["position"]!.slice(axis: 0, start: cache.length, length: 1)
        var x = parameters["embedding"]!.embedding(tokens) * Float(d).squareRoot() + position
        // One position: (rows, width) is already (rows, heads, 1, width/heads) in memory.
        func heads(_ t: Tensor) -> Tensor { t.reshaped([rows, h, 1, d / h]) }
        for layer in 0..<configuration.decoderLayers {
            let name = "decoder.\(layer)"
            let qkv = linear(norm(x, "\(name).attention_norm"), "\(name).attention.qkv")
            let (keys, values) = cache.append(layer: layer, key: heads(qkv.slice(axis: 1, start: d, length: d)),
                                              value: heads(qkv.slice(axis: 1, start: 2 * d, length: d)))
            let attended = attend(heads(qkv.slice(axis: 1, start: 0, length: d)), keys, values, mask: Tensor(scalar: 0))
            x = x + linear(attended.reshaped([rows, d]), "\(name).attention.out")
            let query = heads(linear(norm(x, "\(name).cross_norm"), "\(name).cross.q"))
            let crossed = attend(query, cache.sourceKeys[layer], cache.sourceValues[layer], mask: cache.memory.keyMask)
            x = x + linear(crossed.reshaped([rows, d]), "\(name).cross.out")
            x = feedForward(x, name, nil)
        }
        cache.advance()
        let output = copyHead(norm(x, "decoder.norm"), length: 1, memory: cache.memory)
        return nextTokenDistribution(output, lastPositions: [Int](repeating: 0, count: rows), memory: cache.memory)
    }
}

extension SummarizerTransformer.Memory {
    /// The memory of the given rows, in that order.
    func selecting(_ rows: [Int]) -> Self {
        Self(states: states.reshaped([batch, length * states.shape[1]]).embedding(rows).reshaped([rows.count * length, states.shape[1]]),
             batch: rows.count, length: length, keyMask: keyMask.selectingRows(rows), sources: rows.map { sources[$0] }, copies: copies)
    }
}

extension Tensor {
    /// The given entries of the first axis, in that order.
    func selectingRows(_ rows: [Int]) -> Tensor {
        let width = count / shape[0]
        return reshaped([shape[0], width]).embedding(rows).reshaped([rows.count] + shape.dropFirst())
    }
}
