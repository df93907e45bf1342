import Foundation
import TensorEngine

/// A pre-norm transformer encoder–decoder with a copy (pointer) head: FINDINGS token ids in,
/// a distribution over the next IMPRESSION token out.
///
/// The next-token distribution mixes generating from the vocabulary and copying a source token
/// (See et al. 2017, "Get to the point"): p = g·softmax(h·Eᵀ) + (1 − g)·Σₛ aₛ·onehot(sourceₛ),
/// with a a single-head attention of the decoder state over the encoder states and g a learned
/// gate. Impressions repeat the findings' own words ("right lower lobe", a measurement), which
/// the copy path carries even when the vocabulary softmax is unsure of them. One embedding table
/// serves the encoder, the decoder and the output projection (tied weights: the data is small).
/// Linear weights are stored (in, out).
public final class SummarizerTransformer {
    public struct Configuration: Codable, Sendable, Equatable {
        public var vocabularySize: Int
        public var width = 128
        public var heads = 4
        public var encoderLayers = 2
        public var decoderLayers = 2
        public var feedForward = 256
        /// Positions the learned position table covers: sources and outputs are cut to it.
        public var maximumLength = 256

        public init(vocabularySize: Int, width: Int = 128, heads: Int = 4, encoderLayers: Int = 2,
                    decoderLayers: Int = 2, feedForward: Int = 256, maximumLength: Int = 256) {
            self.vocabularySize = vocabularySize
            self.width = width
            self.heads = heads
            self.encoderLayers = encoderLayers
            self.decoderLayers = decoderLayers
            self.feedForward = feedForward
            self.maximumLength = maximumLength
        }
    }

    public let configuration: Configuration
    /// Trainable tensors by name (the names of the checkpoint).
    public private(set) var parameters: [String: Tensor] = [:]
    /// Eᵀ, the tied embedding transposed once for the vocabulary projection, when the weights
    /// are fixed (loaded or frozen): inference would otherwise transpose the whole table at every
    /// decoding step.
    private var outputProjection: Tensor?
    /// The weights as the inference plans read them, when the weights are fixed.
    private var planWeights: TransformerWeights?

    public init(configuration: Configuration, seed: UInt64) {
        precondition(configuration.width % configuration.heads == 0, "width \(configuration.width) does not split into \(configuration.heads) heads")
        self.configuration = configuration
        var generator = SeededGenerator(seed: seed)
        let d = configuration.width
        addNormal("embedding", [configuration.vocabularySize, d], deviation: Float(d).squareRoot().reciprocal, &generator)
        addNormal("position", [configuration.maximumLength, d], deviation: 0.02, &generator)
        for layer in 0..<configuration.encoderLayers {
            let name = "encoder.\(layer)"
            addNorm("\(name).attention_norm")
            addLinear("\(name).attention.qkv", d, 3 * d, &generator)
            addLinear("\(name).attention.out", d, d, &generator)
            addFeedForward(name, &generator)
        }
        addNorm("encoder.norm")
        for layer in 0..<configuration.decoderLayers {
            let name = "decoder.\(layer)"
            addNorm("\(name).attention_norm")
            addLinear("\(name).attention.qkv", d, 3 * d, &generator)
            addLinear("\(name).attention.out", d, d, &generator)
            addNorm("\(name).cross_norm")
            addLinear("\(name).cross.q", d, d, &generator)
            addLinear("\(name).cross.kv", d, 2 * d, &generator)
            addLinear("\(name).cross.out", d, d, &generator)
            addFeedForward(name, &generator)
        }
        addNorm("decoder.norm")
        addLinear("copy.query", d, d, &generator)
        addLinear("copy.gate", 2 * d, 1, &generator)
    }

    init(configuration: Configuration, loadedParameters: [String: Tensor]) {
        self.configuration = configuration
        parameters = loadedParameters
        outputProjection = loadedParameters["embedding"].flatMap { $0.requiresGrad ? nil : $0.transposed() }
        planWeights = outputProjection.map { TransformerWeights(loadedParameters, outputProjection: $0, configuration: configuration) }
    }

    /// What the inference plan multiplies by: read once for fixed weights, now for weights in
    /// training (an evaluation between epochs).
    var inferenceWeights: TransformerWeights {
        planWeights ?? TransformerWeights(parameters, outputProjection: parameters["embedding"]!.transposed(), configuration: configuration)
    }

    /// The same model with weights that record no graph: what inference runs on.
    public func frozen() -> SummarizerTransformer {
        SummarizerTransformer(configuration: configuration, loadedParameters: parameters.mapValues { $0.detached() })
    }

    // MARK: Building

    private func addNormal(_ name: String, _ shape: [Int], deviation: Float, _ generator: inout SeededGenerator) {
        parameters[name] = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in generator.normal(standardDeviation: deviation) },
                                  requiresGrad: true)
    }

    /// Xavier-uniform weights (what PyTorch's transformer layers use), zero bias.
    private func addLinear(_ name: String, _ inputs: Int, _ outputs: Int, _ generator: inout SeededGenerator) {
        let bound = (6 / Float(inputs + outputs)).squareRoot()
        parameters["\(name).weight"] = Tensor(shape: [inputs, outputs],
                                              data: (0..<(inputs * outputs)).map { _ in generator.uniform(-bound, bound) },
                                              requiresGrad: true)
        parameters["\(name).bias"] = Tensor.zeros([outputs], requiresGrad: true)
    }

    private func addNorm(_ name: String) {
        let d = configuration.width
        parameters["\(name).weight"] = Tensor(shape: [d], data: [Float](repeating: 1, count: d), requiresGrad: true)
        parameters["\(name).bias"] = Tensor.zeros([d], requiresGrad: true)
    }

    private func addFeedForward(_ layer: String, _ generator: inout SeededGenerator) {
        addNorm("\(layer).feed_forward_norm")
        addLinear("\(layer).feed_forward.in", configuration.width, configuration.feedForward, &generator)
        addLinear("\(layer).feed_forward.out", configuration.feedForward, configuration.width, &generator)
    }

    // MARK: Layers

    func linear(_ x: Tensor, _ name: String) -> Tensor {
        x.matmul(parameters["\(name).weight"]!) + parameters["\(name).bias"]!
    }

    func norm(_ x: Tensor, _ name: String) -> Tensor {
        x.layerNorm(scale: parameters["\(name).weight"]!, shift: parameters["\(name).bias"]!)
    }

    /// (batch·length, width) → (batch, heads, length, width/heads).
    func splitHeads(_ x: Tensor, batch: Int, length: Int) -> Tensor {
        let h = configuration.heads
        return x.reshaped([batch, length, h, configuration.width / h]).permuted([0, 2, 1, 3])
    }

    func mergeHeads(_ x: Tensor) -> Tensor {
        let (batch, length) = (x.shape[0], x.shape[2])
        return x.permuted([0, 2, 1, 3]).reshaped([batch * length, configuration.width])
    }

    /// softmax(q·kᵀ/√d + mask)·v over heads; `mask` is added to the scores (−1e9 hides a key).
    func attend(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor) -> Tensor {
        let depth = Float(q.shape[q.rank - 1])
        let scores = q.matmul(k.transposed()) * (1 / depth.squareRoot()) + mask
        return scores.softmax(axis: scores.rank - 1).matmul(v)
    }

    /// x + the layer's pre-norm multi-head self-attention of x, (batch·length, width).
    private func selfAttention(_ x: Tensor, _ layer: String, batch: Int, length: Int, mask: Tensor, _ dropout: Dropout?) -> Tensor {
        let d = configuration.width
        let qkv = linear(norm(x, "\(layer).attention_norm"), "\(layer).attention.qkv")
        let heads = (0..<3).map { splitHeads(qkv.slice(axis: 1, start: $0 * d, length: d), batch: batch, length: length) }
        return x + dropout(linear(mergeHeads(attend(heads[0], heads[1], heads[2], mask: mask)), "\(layer).attention.out"))
    }

    func feedForward(_ x: Tensor, _ layer: String, _ dropout: Dropout?) -> Tensor {
        let inner = linear(norm(x, "\(layer).feed_forward_norm"), "\(layer).feed_forward.in").gelu()
        return x + dropout(linear(inner, "\(layer).feed_forward.out"))
    }

    /// Token embeddings (scaled by √width, as the tied table is small-valued) plus positions.
    private func embed(_ ids: [[Int]], _ dropout: Dropout?) -> Tensor {
        let length = ids[0].count
        let tokens = parameters["embedding"]!.embedding(ids.flatMap { $0 }) * Float(configuration.width).squareRoot()
        let positions = parameters["position"]!.slice(axis: 0, start: 0, length: length)
        return dropout((tokens.reshaped([ids.count, length, configuration.width]) + positions)
            .reshaped([ids.count * length, configuration.width]))
    }

    // MARK: Forward

    /// What the decoder needs of an encoded batch of sources.
    public struct Memory {
        /// (batch·sourceLength, width), after the encoder's final norm.
        let states: Tensor
        let batch: Int, length: Int
        /// (batch, 1, 1, sourceLength): 0 for a real token, −1e9 for padding.
        let keyMask: Tensor
        /// The padded source ids: which word each position would copy.
        let sources: [[Int]]
        /// Whether the copy head may copy: not from an image's positions, which are no words.
        let copies: Bool

        init(states: Tensor, batch: Int, length: Int, keyMask: Tensor, sources: [[Int]], copies: Bool) {
            self.states = states
            self.batch = batch
            self.length = length
            self.keyMask = keyMask
            self.sources = sources
            self.copies = copies
        }

        /// The memory of another encoder (the captioner's image positions): every position real,
        /// nothing to copy. `states` is (batch·length, width).
        public init(encoded states: Tensor, batch: Int, length: Int) {
            self.init(states: states, batch: batch, length: length, keyMask: Tensor.zeros([batch, 1, 1, length]),
                      sources: [[Int]](repeating: [], count: batch), copies: false)
        }
    }

    /// Encodes padded sources (every row the same length, padded with `<pad>`).
    func encode(_ sources: [[Int]], dropout: Dropout? = nil) -> Memory {
        let (batch, length) = (sources.count, sources[0].count)
        let mask = sources.flatMap { row in row.map { $0 == ReportVocabulary.padding ? Float(-1e9) : 0 } }
        let keyMask = Tensor(shape: [batch, 1, 1, length], data: mask)
        var x = embed(sources, dropout)
        for layer in 0..<configuration.encoderLayers {
            x = selfAttention(x, "encoder.\(layer)", batch: batch, length: length, mask: keyMask, dropout)
            x = feedForward(x, "encoder.\(layer)", dropout)
        }
        return Memory(states: norm(x, "encoder.norm"), batch: batch, length: length, keyMask: keyMask, sources: sources, copies: true)
    }

    /// The decoder's view of each position of `targets` (which start with `<bos>`; all rows the
    /// same length): its final state (batch·length, width), the copy head's attention over the
    /// source (batch, length, sourceLength) and the gate g (batch·length, 1) that weighs
    /// generating against copying.
    struct DecoderOutput {
        let states: Tensor
        let copyWeights: Tensor
        let gate: Tensor
    }

    func decode(_ targets: [[Int]], memory: Memory, dropout: Dropout? = nil) -> DecoderOutput {
        let (batch, length) = (targets.count, targets[0].count)
        var causal = [Float](repeating: 0, count: length * length)
        for q in 0..<length { for k in (q + 1)..<max(length, q + 1) { causal[q * length + k] = -1e9 } }
        let causalMask = Tensor(shape: [length, length], data: causal)
        var x = embed(targets, dropout)
        for layer in 0..<configuration.decoderLayers {
            let name = "decoder.\(layer)"
            x = selfAttention(x, name, batch: batch, length: length, mask: causalMask, dropout)
            let q = splitHeads(linear(norm(x, "\(name).cross_norm"), "\(name).cross.q"), batch: batch, length: length)
            let (k, v) = crossKeysAndValues(memory, layer: layer)
            x = x + dropout(linear(mergeHeads(attend(q, k, v, mask: memory.keyMask)), "\(name).cross.out"))
            x = feedForward(x, name, dropout)
        }
        return copyHead(norm(x, "decoder.norm"), length: length, memory: memory)
    }

    /// A decoder layer's keys and values of the encoded source: (batch, heads, sourceLength, width/heads) each.
    func crossKeysAndValues(_ memory: Memory, layer: Int) -> (Tensor, Tensor) {
        let d = configuration.width
        let kv = linear(memory.states, "decoder.\(layer).cross.kv")
        return (splitHeads(kv.slice(axis: 1, start: 0, length: d), batch: memory.batch, length: memory.length),
                splitHeads(kv.slice(axis: 1, start: d, length: d), batch: memory.batch, length: memory.length))
    }

    /// The copy head over final decoder states (batch·length, width): one attention over the
    /// encoder states; the gate sees the state and what the attention reads.
    func copyHead(_ states: Tensor, length: Int, memory: Memory) -> DecoderOutput {
        let (batch, d) = (memory.batch, configuration.width)
        guard memory.copies else {
            return DecoderOutput(states: states, copyWeights: Tensor.zeros([batch, length, memory.length]),
                                 gate: Tensor(shape: [batch * length, 1], data: [Float](repeating: 1, count: batch * length)))
        }
        let query = linear(states, "copy.query").reshaped([batch, length, d])
        let sourceStates = memory.states.reshaped([batch, memory.length, d])
        let copyMask = memory.keyMask.reshaped([batch, 1, memory.length])
        let weights = (query.matmul(sourceStates.transposed()) * (1 / Float(d).squareRoot()) + copyMask).softmax(axis: 2)
        let context = weights.matmul(sourceStates).reshaped([batch * length, d])
        let gate = linear(Tensor.concat([states, context], axis: 1), "copy.gate").sigmoid()
        return DecoderOutput(states: states, copyWeights: weights, gate: gate)
    }

    /// The vocabulary logits of decoder states (rows, width) → (rows, vocabulary).
    func vocabularyLogits(_ states: Tensor) -> Tensor {
        states.matmul(outputProjection ?? parameters["embedding"]!.transposed())
    }

    func vocabularyDistribution(_ states: Tensor) -> Tensor { vocabularyLogits(states).softmax(axis: 1) }

    /// Mean negative log-likelihood of each target's next tokens (`<pad>` positions ignored), with
    /// the model in training mode when `dropout` is given. With `labelSmoothing` ε the loss is
    /// (1 − ε)·NLL + ε·(mean −log of the vocabulary softmax over all words): the smoothing acts on
    /// the generating path, which is where over-confidence on a small corpus lives.
    ///
    /// Only the probability of each target token is formed: g·softmax(h·Eᵀ)[y] picked from the
    /// vocabulary softmax, plus (1 − g)·Σₛ aₛ·[sourceₛ = y] from the copy attention, so that no
    /// (positions × vocabulary) copy distribution is ever built.
    public func loss(sources: [[Int]], targets: [[Int]], dropout: Dropout? = nil, labelSmoothing: Float = 0) -> Tensor {
        loss(memory: encode(sources, dropout: dropout), targets: targets, dropout: dropout, labelSmoothing: labelSmoothing)
    }

    /// The same loss from an encoded memory (the summarizer's own encoder, or another's).
    public func loss(memory: Memory, targets: [[Int]], dropout: Dropout? = nil, labelSmoothing: Float = 0) -> Tensor {
        losses(memory: memory, targets: targets, dropout: dropout, labelSmoothing: labelSmoothing).crossEntropy
    }

    /// The cross-entropy above and, given a teacher's next-token distributions at the same
    /// positions (`teacherDistributions`), the distillation loss KL(teacher_T ‖ student_T)·T² of
    /// the vocabulary distribution at temperature T (Hinton et al.; the T² keeps its gradient's
    /// scale apart from T) — both from one pass of the decoder.
    public func losses(memory: Memory, targets: [[Int]], dropout: Dropout? = nil, labelSmoothing: Float = 0,
                       teacher: [[Float]]? = nil, temperature: Float = 1) -> (crossEntropy: Tensor, distillation: Tensor?) {
        let inputs = targets.map { Array($0.dropLast()) }
        let output = decode(inputs, memory: memory, dropout: dropout)
        let (batch, length, v, sourceLength) = (targets.count, inputs[0].count, configuration.vocabularySize, memory.length)
        var picks: [Int] = [], rows: [Int] = []
        var matches = [Float](repeating: 0, count: batch * length * sourceLength)
        for (b, row) in targets.enumerated() {
            for (t, id) in row.dropFirst().enumerated() where id != ReportVocabulary.padding {
                let position = b * length + t
                rows.append(position)
                picks.append(position * v + id)
                guard memory.copies else { continue }
                for (s, source) in memory.sources[b].enumerated() where source == id { matches[position * sourceLength + s] = 1 }
            }
        }
        let vocabulary = vocabularyDistribution(output.states)
        let generated = vocabulary.reshaped([batch * length * v, 1]).embedding(picks)
        let copied = (output.copyWeights * Tensor(shape: [batch, length, sourceLength], data: matches)).sum(axis: 2)
            .reshaped([batch * length, 1]).embedding(rows)
        let gate = output.gate.embedding(rows)
        let probability = gate * generated + (-gate + 1) * copied
        var crossEntropy = -(probability + 1e-9).log().mean()
        if labelSmoothing > 0 {
            let uniform = -(vocabulary.embedding(rows) + 1e-9).log().mean()
            crossEntropy = crossEntropy * (1 - labelSmoothing) + uniform * labelSmoothing
        }
        guard let teacher else { return (crossEntropy, nil) }
        precondition(teacher.count == rows.count, "\(teacher.count) teacher distributions for \(rows.count) positions")
        let student = (vocabularyLogits(output.states.embedding(rows)) * (1 / temperature)).logSoftmax(axis: 1)
        let tempered = teacher.flatMap { distribution -> [Float] in
            let powered = distribution.map { Foundation.pow(max($0, 1e-12), 1 / temperature) }
            let total = powered.reduce(0, +)
            return powered.map { Foundation.log($0 / total) }
        }
        let target = Tensor(shape: [rows.count, v], data: tempered)
        return (crossEntropy, student.klDivergence(from: target) * (temperature * temperature))
    }

    /// The model's next-token distributions (copy included) at every position of `targets` whose
    /// next token is real, teacher-forced, in the order `losses` counts them: what a student
    /// distils from. Inference only.
    public func teacherDistributions(sources: [[Int]], targets: [[Int]]) -> [[Float]] {
        let memory = encode(sources)
        let inputs = targets.map { Array($0.dropLast()) }
        let output = decode(inputs, memory: memory)
        let byPosition = (0..<inputs[0].count).map { nextTokenDistribution(output, lastPositions: [Int](repeating: $0, count: targets.count), memory: memory) }
        return targets.enumerated().flatMap { b, row in
            row.dropFirst().enumerated().filter { $0.element != ReportVocabulary.padding }.map { byPosition[$0.offset][b] }
        }
    }

    /// The next-token distribution after the last position of each prefix: (rows, vocabulary),
    /// the vocabulary softmax and the copy attention mixed by the gate. Inference only.
    func nextTokenDistribution(_ output: DecoderOutput, lastPositions: [Int], memory: Memory) -> [[Float]] {
        let length = output.copyWeights.shape[1], sourceLength = memory.length, d = configuration.width
        let rows = lastPositions.enumerated().map { $0.offset * length + $0.element }
        let states = Tensor(shape: [rows.count, d], data: rows.flatMap { output.states.data[($0 * d)..<(($0 + 1) * d)] })
        let vocabulary = vocabularyDistribution(states)
        let v = configuration.vocabularySize
        return rows.enumerated().map { index, row in
            let g = output.gate.data[row]
            var distribution = vocabulary.data[(index * v)..<((index + 1) * v)].map { $0 * g }
            guard memory.copies else { return distribution }
            let source = memory.sources[index]
            for s in 0..<sourceLength where source[s] != ReportVocabulary.padding {
                distribution[source[s]] += (1 - g) * output.copyWeights.data[row * sourceLength + s]
            }
            return distribution
        }
    }
}

/// Dropout in training (inference passes nil): one value passed down the layers, so that one
/// seeded generator draws every mask of a step.
public final class Dropout {
    let rate: Float
    private var generator: SeededGenerator

    public init(rate: Float, seed: UInt64) {
        self.rate = rate
        generator = SeededGenerator(seed: seed)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { rate > 0 ? x.dropout(rate: rate, using: &generator) : x }
}

extension Optional where Wrapped == Dropout {
    func callAsFunction(_ x: Tensor) -> Tensor { self.map { $0(x) } ?? x }
}

extension Float {
    fileprivate var reciprocal: Float { 1 / self }
}
