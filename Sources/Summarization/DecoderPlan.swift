import Foundation
import TensorEngine

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
    private let weights: TransformerWeights
    private let width: Int, heads: Int, vocabulary: Int, maximumLength: Int
    /// The source each row reads, and each source's length and which of its positions are real.
    private let sourceOfRow: [Int]
    private let sourceLength: Int
    private let realPosition: UnsafeMutablePointer<Bool>
    /// Each source's word ids (what the copy head copies), when it may copy.
    private let sourceWords: [[Int]]?
    /// Encoder states, (sources·sourceLength, width), and each source's in key panels of one
    /// head (`PlanKernels.panelIndex`), width·sourceColumns: the copy head's values and keys.
    private let sourceStates: UnsafeMutablePointer<Float>, sourceStatePanels: UnsafeMutablePointer<Float>
    /// A source's key columns, rounded up to whole registers.
    private let sourceColumns: Int
    /// Per layer, the source's keys and values, (sources·sourceLength, 2·width): a key, then its
    /// value; and each source's keys in panels, width·sourceColumns, which are what attends.
    private let crossKeysAndValues: [UnsafeMutablePointer<Float>], crossKeys: [UnsafeMutablePointer<Float>]
    /// Per layer, every row's values so far, (rows·maximumLength, width), and its keys so far in
    /// panels, width·positionColumns a row; and as much again of each to rearrange the rows into.
    private var selfValues: [UnsafeMutablePointer<Float>], selfKeys: [UnsafeMutablePointer<Float>]
    private var spareValues: [UnsafeMutablePointer<Float>] = [], spareKeys: [UnsafeMutablePointer<Float>] = []
    private let positionColumns: Int
    // One step's activations, a row per row still going.
    private let x, normed, attended, projected, query, qkv, inner, scores, copyWeights, gateInput: UnsafeMutablePointer<Float>
    private let gates: UnsafeMutablePointer<Float>
    /// Each fed token's final state in the most-likely screen's basis, and that basis once the
    /// screen has it (asked of the screen, under its lock, only until then).
    private let coordinates: UnsafeMutablePointer<Float>
    private var screenBasis: MostLikelyTokenScreen.Basis?
    /// The step's next-token distributions, (tokens fed, vocabulary).
    private let distributions: UnsafeMutablePointer<Float>
    private var allocations: [UnsafeMutablePointer<Float>] = []
    /// Each row's prefixes, by position: the id of its tokens up to and including that one, the
    /// same for two rows whose tokens so far are the same (`step`); ids are made as prefixes are fed.
    private var prefixes: [[Int]]
    private struct Extension: Hashable { let prefix: Int, token: Int }
    private var prefixIDs: [Extension: Int] = [:]

    /// Whether steps share the first layer among rows of the same prefix: asked for by drafted
    /// decoding (rows fed the same draft), where it pays for its bookkeeping, and only where every
    /// product is row by row the same whatever the rows beside it (`radstream_linear_avx512`),
    /// so that sharing changes no bit.
    let sharesPrefixes: Bool
    /// Tokens the first layer has computed, over every step (what sharing saves).
    private(set) var firstLayerTokens = 0

    /// A plan for `sourceOfRow.count` rows, row i reading source `sourceOfRow[i]` of `memory`,
    /// each fed at most `length` positions (by default all the model has), whose steps feed at
    /// most `capacity` tokens (by default one per row).
    init(model: SummarizerTransformer, weights: TransformerWeights, memory: SummarizerTransformer.Memory, sourceOfRow: [Int],
         length: Int? = nil, capacity: Int? = nil, sharingPrefixes: Bool = false) {
        sharesPrefixes = sharingPrefixes && ProcessorFeatures.avx512
        let configuration = model.configuration
        (width, heads, vocabulary) = (configuration.width, configuration.heads, configuration.vocabularySize)
        maximumLength = min(length ?? configuration.maximumLength, configuration.maximumLength)
        self.weights = weights
        self.sourceOfRow = sourceOfRow
        rows = sourceOfRow.count
        self.capacity = capacity ?? sourceOfRow.count
        sourceLength = memory.length
        realPosition = .allocate(capacity: max(memory.keyMask.count, 1))
        for (index, mask) in memory.keyMask.data.enumerated() { realPosition[index] = mask == 0 }
        sourceWords = memory.copies ? memory.sources : nil
        var made: [UnsafeMutablePointer<Float>] = []
        // Not cleared: every element is written before it is read.
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            made.append(pointer)
            return pointer
        }
        let (d, sources, n) = (configuration.width, memory.batch, max(capacity ?? sourceOfRow.count, 1))
        let states = buffer(sources * memory.length * d), columns = PlanKernels.keyColumns(memory.length)
        memory.states.data.withUnsafeBufferPointer { states.update(from: $0.baseAddress!, count: $0.count) }
        sourceStates = states
        sourceColumns = columns
        // Each source's keys in panels once, for every step that attends to them.
        func panels(_ keys: UnsafeMutablePointer<Float>, stride: Int, heads: Int) -> UnsafeMutablePointer<Float> {
            let target = buffer(sources * d * columns)
            for source in 0..<sources {
                PlanKernels.panelKeys(keys + source * memory.length * stride, stride: stride, count: memory.length, width: d, heads: heads,
                                      into: target + source * d * columns)
            }
            return target
        }
        sourceStatePanels = panels(states, stride: d, heads: 1)
        crossKeysAndValues = weights.layers.map { layer in
            let kv = buffer(sources * memory.length * 2 * d)
            PlanKernels.linear(states, layer.crossKeysAndValues, rows: sources * memory.length, into: kv)
            return kv
        }
        crossKeys = crossKeysAndValues.map { [heads] in panels($0, stride: 2 * d, heads: heads) }
        let positions = maximumLength, rowCount = max(sourceOfRow.count, 1)
        positionColumns = PlanKernels.keyColumns(positions)
        selfValues = weights.layers.map { _ in buffer(rowCount * positions * d) }
        selfKeys = weights.layers.map { [positionColumns] _ in buffer(rowCount * d * positionColumns) }
        (x, normed, attended, projected, query) = (buffer(n * d), buffer(n * d), buffer(n * d), buffer(n * d), buffer(n * d))
        qkv = buffer(n * 3 * d)
        inner = buffer(n * configuration.feedForward)
        scores = buffer(max(positionColumns, columns))
        copyWeights = buffer(n * columns)
        gateInput = buffer(n * 2 * d)
        gates = buffer(n)
        coordinates = buffer(n * weights.mostLikelyScreen.rank)
        distributions = buffer(n * configuration.vocabularySize)
        allocations = made
        prefixes = [[Int]](repeating: [], count: sourceOfRow.count)
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
        realPosition.deallocate()
    }

    /// Makes row i what row `parents[i]` was (a row may repeat), for its first `positions`
    /// positions: the hypotheses a beam keeps. The rows must read the same source.
    func rearrange(_ parents: [Int], positions: Int) {
        precondition(parents.count <= rows && parents.allSatisfy { sourceOfRow[$0] == sourceOfRow[0] }, "rows of one source")
        let (valueSlab, keySlab) = (maximumLength * width, width * positionColumns)
        if spareValues.isEmpty {
            spareValues = selfValues.map { _ in .allocate(capacity: max(rows, 1) * valueSlab) }
            spareKeys = selfKeys.map { _ in .allocate(capacity: max(rows, 1) * keySlab) }
            allocations += spareValues + spareKeys
        }
        for layer in selfValues.indices {
            for (row, parent) in parents.enumerated() {
                (spareValues[layer] + row * valueSlab).update(from: selfValues[layer] + parent * valueSlab, count: positions * width)
                PlanKernels.copyKeyPanels(selfKeys[layer] + parent * keySlab, count: positions, columns: positionColumns, width: width,
                                          heads: heads, into: spareKeys[layer] + row * keySlab)
            }
        }
        swap(&selfValues, &spareValues)
        swap(&selfKeys, &spareKeys)
        if sharesPrefixes {
            let kept = prefixes
            for (row, parent) in parents.enumerated() { prefixes[row] = Array(kept[parent].prefix(positions)) }
        }
    }

    /// For each fed token, the index among the tokens that compute the first layer of the one
    /// whose results it takes (its own where its prefix is new in this step), and those tokens in
    /// order: what `step` computes once per prefix. Records each row's prefixes as it goes.
    private func sharedPrefixes(_ tokens: [Int], going: [Int], positions: [Int]) -> (computing: [Int], source: [Int]) {
        var computing: [Int] = [], source: [Int] = [], computedFor: [Int: Int] = [:]
        computing.reserveCapacity(tokens.count)
        source.reserveCapacity(tokens.count)
        for (i, row) in going.enumerated() {
            let position = positions[i]
            precondition(position <= prefixes[row].count, "row \(row) fed at \(position) before its earlier positions")
            // Feeding a position again (a draft not kept) forgets what was fed after it.
            prefixes[row].removeSubrange(position...)
            let parent = position == 0 ? -1 : prefixes[row][position - 1]
            let step = Extension(prefix: parent, token: tokens[i])
            let id = prefixIDs[step] ?? {
                let made = prefixIDs.count
                prefixIDs[step] = made
                return made
            }()
            prefixes[row].append(id)
            if let computed = computedFor[id] {
                source.append(computed)
            } else {
                computedFor[id] = computing.count
                source.append(computing.count)
                computing.append(i)
            }
        }
        return (computing, source)
    }

    /// Feeds `tokens[i]` to row `going[i]` at position `positions[i]` and returns the
    /// distribution of the token after each, (tokens.count, vocabulary), valid until the next
    /// step. Every earlier position of a row must have been fed, in this step or before, and a
    /// row's tokens come in the order of their positions.
    ///
    /// The first layer up to its cross-attention reads only a row's own tokens, so rows whose
    /// tokens so far are the same (the captioner's rows fed the same draft) get the same values
    /// there: it runs once for each such prefix, and the others take its results and its keys
    /// and values — bit for bit what they would compute, where every product is row by row
    /// whatever the rows beside it (`sharesPrefixes`).
    func step(_ tokens: [Int], going: [Int], positions: [Int]) -> UnsafeBufferPointer<Float> {
        advance(tokens, going: going, positions: positions)
        return nextTokenDistributions(going: going)
    }

    /// What `step` feeds, and for each fed token the most likely next one: the argmax of the
    /// distribution `step` would return, found without the full vocabulary projection where the
    /// model does not copy and the screen has its basis (`MostLikelyTokenScreen`); the rows it
    /// leaves undecided, every row before, and every row with `screening` off take `step`'s own
    /// distribution.
    func mostLikelyTokens(_ tokens: [Int], going: [Int], positions: [Int], screening: Bool = true) -> [Int] {
        advance(tokens, going: going, positions: positions)
        let (a, d, v) = (going.count, width, vocabulary)
        let screen = weights.mostLikelyScreen
        if screening, sourceWords == nil, screenBasis == nil { screenBasis = screen.basis }
        guard screening, sourceWords == nil, let basis = screenBasis else {
            if screening, sourceWords == nil {
                screen.offer(normed, rows: a, embedding: weights.embedding)
            }
            let distributions = nextTokenDistributions(going: going)
            return (0..<a).map { PlanKernels.firstMaximum(distributions.baseAddress! + $0 * v, count: v) }
        }
        let screened = weights.embedding.withUnsafeBufferPointer { embedding in
            MostLikelyTokenScreen.mostLikely(normed, rows: a, width: d, vocabulary: v, basis: basis, embedding: embedding.baseAddress!,
                                            coordinates: coordinates, reconstruction: projected, scores: distributions)
        }
        let undecided = screened.count { $0 == nil }
        screen.screenedRows.add(a - undecided, ordering: .relaxed)
        screen.undecidedRows.add(undecided, ordering: .relaxed)
        return screened.enumerated().map { i, token in token ?? fullArgmax(row: i) }
    }

    /// One row's argmax through the full projection and softmax, as `step` computes them.
    private func fullArgmax(row i: Int) -> Int {
        let (d, v) = (width, vocabulary)
        let logits = distributions + i * v
        weights.outputProjection.withUnsafeBufferPointer { projection in
            PlanKernels.product(normed + i * d, rows: 1, inputs: d, weight: projection.baseAddress!, outputs: v, bias: nil, into: logits)
        }
        PlanKernels.softmax(logits, count: v)
        return PlanKernels.firstMaximum(logits, count: v)
    }

    /// Feeds the tokens through every layer, leaving each fed token's final state in `normed`.
    private func advance(_ tokens: [Int], going: [Int], positions: [Int]) {
        precondition(tokens.count == going.count && going.count == positions.count && going.count <= capacity,
                     "\(tokens.count) tokens for \(going.count) rows at \(positions.count) positions; a step takes \(capacity)")
        precondition(positions.allSatisfy { $0 < maximumLength }, "past the last position")
        let (a, d) = (going.count, width)
        // Which fed token computes the first layer for each: itself, or an earlier one of its prefix.
        let shared = sharesPrefixes ? sharedPrefixes(tokens, going: going, positions: positions) : nil
        let (computingTokens, computingRows, computingPositions) = shared.map { shared in
            (shared.computing.map { tokens[$0] }, shared.computing.map { going[$0] }, shared.computing.map { positions[$0] })
        } ?? (tokens, going, positions)
        firstLayerTokens += computingTokens.count
        PlanKernels.embed(computingTokens, positions: computingPositions, weights, width: d, into: x)
        for (layer, layerWeights) in weights.layers.enumerated() {
            // Self-attention over the row's own tokens so far (causal by construction).
            let first = layer == 0
            let (rows, at, count) = first ? (computingRows, computingPositions, computingTokens.count) : (going, positions, a)
            PlanKernels.norm(x, layerWeights.attentionNorm, rows: count, width: d, into: normed)
            PlanKernels.linear(normed, layerWeights.qkv, rows: count, into: qkv)
            let (values, keys) = (selfValues[layer], selfKeys[layer])
            func store(_ computed: Int, row: Int, position: Int) {
                (values + (row * maximumLength + position) * d).update(from: qkv + computed * 3 * d + 2 * d, count: d)
                PlanKernels.storeKey(qkv + computed * 3 * d + d, at: position, columns: positionColumns, width: d, heads: heads,
                                     into: keys + row * d * positionColumns)
            }
            for (i, row) in rows.enumerated() { store(i, row: row, position: at[i]) }
            // The rows that share a prefix get its keys and values before anything attends.
            if first, let shared {
                for (i, row) in going.enumerated() where shared.computing[shared.source[i]] != i {
                    store(shared.source[i], row: row, position: positions[i])
                }
            }
            for (i, row) in rows.enumerated() {
                PlanKernels.attend(query: qkv + i * 3 * d, keyPanels: keys + row * d * positionColumns, columns: positionColumns,
                                   values: values + row * maximumLength * d, valueStride: d, count: at[i] + 1, real: nil,
                                   width: d, heads: heads, scores: scores, into: attended + i * d)
            }
            PlanKernels.linear(attended, layerWeights.attentionOut, rows: count, into: projected)
            PlanKernels.add(projected, to: x, count: count * d)
            // Cross-attention over the row's source.
            PlanKernels.norm(x, layerWeights.crossNorm, rows: count, width: d, into: normed)
            PlanKernels.linear(normed, layerWeights.crossQuery, rows: count, into: query)
            if first, let shared {
                // Every fed token's state and query from its prefix's: backwards, since a token's
                // prefix was computed at an index no later than its own.
                for i in stride(from: a - 1, through: 0, by: -1) where shared.source[i] != i {
                    (x + i * d).update(from: x + shared.source[i] * d, count: d)
                    (query + i * d).update(from: query + shared.source[i] * d, count: d)
                }
            }
            for (i, row) in going.enumerated() {
                let source = sourceOfRow[row], values = crossKeysAndValues[layer] + source * sourceLength * 2 * d + d
                PlanKernels.attend(query: query + i * d, keyPanels: crossKeys[layer] + source * d * sourceColumns, columns: sourceColumns,
                                   values: values, valueStride: 2 * d, count: sourceLength, real: realPosition + source * sourceLength,
                                   width: d, heads: heads, scores: scores, into: attended + i * d)
            }
            PlanKernels.linear(attended, layerWeights.crossOut, rows: a, into: projected)
            PlanKernels.add(projected, to: x, count: a * d)
            PlanKernels.feedForward(x, norm: layerWeights.feedForwardNorm, in: layerWeights.feedForwardIn, out: layerWeights.feedForwardOut,
                                    rows: a, width: d, normed: normed, inner: inner, projected: projected)
        }
        PlanKernels.norm(x, weights.finalNorm, rows: a, width: d, into: normed)
    }

    /// The vocabulary softmax mixed with the copy head's attention over the source by its gate,
    /// from the final states in `normed`.
    private func nextTokenDistributions(going: [Int]) -> UnsafeBufferPointer<Float> {
        let (a, d, v) = (going.count, width, vocabulary)
        weights.outputProjection.withUnsafeBufferPointer { projection in
            PlanKernels.product(normed, rows: a, inputs: d, weight: projection.baseAddress!, outputs: v, bias: nil, into: distributions)
        }
        for i in 0..<a { PlanKernels.softmax(distributions + i * v, count: v) }
        guard let sourceWords else { return UnsafeBufferPointer(start: distributions, count: a * v) }
        PlanKernels.linear(normed, weights.copyQuery, rows: a, into: query)
        for (i, row) in going.enumerated() {
            // One head over the encoder's states, its weights kept to copy by; the gate reads the
            // state and what the copy attention reads.
            let source = sourceOfRow[row], states = sourceStates + source * sourceLength * d, input = gateInput + i * 2 * d
            input.update(from: normed + i * d, count: d)
            PlanKernels.attend(query: query + i * d, keyPanels: sourceStatePanels + source * d * sourceColumns, columns: sourceColumns,
                               values: states, valueStride: d, count: sourceLength, real: realPosition + source * sourceLength, width: d,
                               heads: 1, scores: copyWeights + i * sourceColumns, into: input + d)
        }
        PlanKernels.linear(gateInput, weights.copyGate, rows: a, into: gates)
        for (i, row) in going.enumerated() {
            let g = 1 / (1 + Foundation.exp(-gates[i])), distribution = distributions + i * v
            for id in 0..<v { distribution[id] *= g }
            let words = sourceWords[sourceOfRow[row]]
            for s in 0..<sourceLength where realPosition[sourceOfRow[row] * sourceLength + s] {
                distribution[words[s]] += (1 - g) * copyWeights[i * sourceColumns + s]
            }
        }
        return UnsafeBufferPointer(start: distributions, count: a * v)
    }
}
