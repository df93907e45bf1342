import Foundation
import TensorEngine

/// Greedy, beam-search and sampled decoding of the summarizer transformer, one token per step
/// on the `DecoderPlan` (rows that have ended leave the batch; a beam's rows are rearranged).
extension SummarizerTransformer {
    /// The most likely token at each step, for a batch of sources at once; each output stops at
    /// `<eos>` or after `maximumLength` tokens.
    public func greedy(_ sources: [[Int]], maximumLength: Int) -> [[Int]] {
        greedy(memory: encodeOnPlan(sources), maximumLength: maximumLength)
    }

    /// Greedy decoding of every row of an encoded memory (the summarizer's, or another encoder's).
    /// `screening` off takes every argmax from the full distribution (`MostLikelyTokenScreen`),
    /// which tests hold the screen to.
    public func greedy(memory: Memory, maximumLength: Int, screening: Bool = true) -> [[Int]] {
        decodeEachRow(memory, sourceOfRow: Array(0..<memory.batch), maximumLength: maximumLength, mostLikely: true, screening: screening)
    }

    /// Greedy decoding that drafts from `drafts` (and records its outputs there): a row whose
    /// output so far starts an output in the book is fed that output's rest in the same step as
    /// its next token, and keeps each drafted token its own choice at the position before
    /// confirms, then its choice after the last confirmed one. What each fed token attends to is
    /// the row's tokens up to its own, so a choice is what plain greedy decoding makes there (a
    /// test holds the outputs equal); a draft costs its tokens once and saves a step for each
    /// token confirmed.
    public func greedy(memory: Memory, maximumLength: Int, drafts: DraftBook, screening: Bool = true) -> [[Int]] {
        decodeEachRow(memory, sourceOfRow: Array(0..<memory.batch), maximumLength: maximumLength, drafts: drafts, mostLikely: true,
                      screening: screening)
    }

    /// Tokens a drafting step feeds at most, over all its rows.
    static let draftedTokensPerStep = 512

    /// `count` outputs drawn from the model's own distribution for one source, token by token
    /// (ancestral sampling), from `generator`.
    public func samples(_ source: [Int], count: Int, maximumLength: Int, generator: inout SeededGenerator) -> [[Int]] {
        decodeEachRow(encodeOnPlan([source]), sourceOfRow: [Int](repeating: 0, count: count), maximumLength: maximumLength) { distribution in
            var threshold = generator.unit() * distribution.reduce(0, +)
            for (id, p) in distribution.enumerated() {
                threshold -= p
                if threshold <= 0 { return id }
            }
            return ReportVocabulary.end
        }
    }

    /// Decodes every row independently (row i reading source `sourceOfRow[i]` of `memory`),
    /// `choose` picking each next token from its distribution, or with `mostLikely` the most
    /// likely one (greedy decoding, through the plan's `mostLikelyTokens`, which can skip the
    /// distribution itself unless `screening` is off); a row leaves the batch when it picks
    /// `<eos>`. With `drafts`, a row is fed a draft after its next token where the book has one
    /// (see `greedy(memory:maximumLength:drafts:)`; `choose` must then be deterministic).
    private func decodeEachRow(_ memory: Memory, sourceOfRow: [Int], maximumLength: Int, drafts: DraftBook? = nil,
                               mostLikely: Bool = false, screening: Bool = true,
                               choose: (UnsafeBufferPointer<Float>) -> Int = { _ in ReportVocabulary.end }) -> [[Int]] {
        let steps = min(maximumLength + 1, configuration.maximumLength)
        // A row's draft is at most its share of `draftedTokensPerStep`: the step's buffers hold a
        // distribution over the vocabulary for every token fed (at 61 tokens for each of 32 rows,
        // 9 MB per plan; at a share of 512, a captioner's 45-token impression takes three steps).
        let draftLimit = drafts == nil ? 0 : min(steps - 1, max(Self.draftedTokensPerStep / max(sourceOfRow.count, 1) - 1, 0))
        let plan = DecoderPlan(model: self, weights: inferenceWeights, memory: memory, sourceOfRow: sourceOfRow, length: steps,
                               capacity: sourceOfRow.count * (1 + draftLimit), sharingPrefixes: drafts != nil)
        let v = configuration.vocabularySize
        var outputs = [[Int]](repeating: [], count: sourceOfRow.count)
        var going = Array(outputs.indices)
        var next = [Int](repeating: ReportVocabulary.beginning, count: going.count)
        while !going.isEmpty {
            // Each row's next token at its next position, then its draft (never `<eos>`, which is
            // only ever chosen, and never past the last position).
            var tokens: [Int] = [], rows: [Int] = [], positions: [Int] = [], firstFed: [Int] = []
            for (i, row) in going.enumerated() {
                let position = outputs[row].count
                let draft = drafts?.continuation(of: outputs[row], limit: min(draftLimit, steps - 1 - position))
                    .prefix { $0 != ReportVocabulary.end } ?? []
                firstFed.append(tokens.count)
                for (offset, token) in ([next[i]] + draft).enumerated() {
                    tokens.append(token)
                    rows.append(row)
                    positions.append(position + offset)
                }
            }
            firstFed.append(tokens.count)
            let chosen = mostLikely ? plan.mostLikelyTokens(tokens, going: rows, positions: positions, screening: screening) : nil
            let distributions = chosen == nil ? plan.step(tokens, going: rows, positions: positions) : nil
            var kept: [Int] = []
            next = []
            for (i, row) in going.enumerated() {
                var ended = false
                for fed in firstFed[i]..<firstFed[i + 1] {
                    let token = chosen?[fed] ?? choose(UnsafeBufferPointer(rebasing: distributions![(fed * v)..<((fed + 1) * v)]))
                    if token == ReportVocabulary.end || outputs[row].count == maximumLength {
                        ended = true
                        drafts?.record(outputs[row], ended: token == ReportVocabulary.end)
                        break
                    }
                    outputs[row].append(token)
                    // The next fed token was drafted: its distribution counts only if it is this choice.
                    if fed + 1 == firstFed[i + 1] || tokens[fed + 1] != token { break }
                }
                if !ended, outputs[row].count < steps {
                    kept.append(row)
                    next.append(outputs[row].last!)
                } else if !ended {
                    drafts?.record(outputs[row], ended: false)
                }
            }
            going = kept
        }
        return outputs
    }

    /// Beam search for one source: `width` hypotheses kept at each step, ranked at the end by
    /// log-probability over length^`lengthPenalty` (so that short endings are not favoured just
    /// for having fewer factors).
    public func beam(_ source: [Int], width: Int, maximumLength: Int, lengthPenalty: Float = 1) -> [Int] {
        beam(memory: encodeOnPlan([source]), width: width, maximumLength: maximumLength, lengthPenalty: lengthPenalty)
    }

    /// Beam search over a memory of one row, on the `DecoderPlan`: a row per hypothesis, the rows
    /// of the hypotheses kept rearranged after each step.
    public func beam(memory: Memory, width: Int, maximumLength: Int, lengthPenalty: Float = 1) -> [Int] {
        precondition(width >= 1, "a beam needs at least one hypothesis")
        precondition(memory.batch == 1, "a beam searches for one input at a time")
        let steps = min(maximumLength + 1, configuration.maximumLength), v = configuration.vocabularySize
        let plan = DecoderPlan(model: self, weights: inferenceWeights, memory: memory, sourceOfRow: [Int](repeating: 0, count: width),
                               length: steps)
        return beamSearch(width: width, maximumLength: maximumLength, lengthPenalty: lengthPenalty) { tokens, position in
            let distributions = plan.step(tokens, going: Array(tokens.indices), positions: [Int](repeating: position, count: tokens.count))
            return tokens.indices.map { Array(distributions[($0 * v)..<(($0 + 1) * v)]) }
        } keep: { parents, positions in
            plan.rearrange(parents, positions: positions)
        }
    }

    /// The same beam search step by step on the graph, with a `DecoderCache`: what the plan's
    /// is held to.
    func beamOnTheGraph(memory: Memory, width: Int, maximumLength: Int, lengthPenalty: Float = 1) -> [Int] {
        var cache = DecoderCache(model: self, memory: memory)
        return beamSearch(width: width, maximumLength: maximumLength, lengthPenalty: lengthPenalty) { tokens, _ in
            step(tokens, cache: &cache)
        } keep: { parents, _ in
            cache = cache.selecting(parents)
        }
    }

    /// Beam search: `step` gives the next-token distribution after each hypothesis's last token
    /// (a row each, in order, at the given position), `keep` makes the given rows (parents, a
    /// row may repeat) the next step's rows, their first `positions` positions fed.
    private func beamSearch(width: Int, maximumLength: Int, lengthPenalty: Float, step: (_ tokens: [Int], _ position: Int) -> [[Float]],
                            keep: (_ parents: [Int], _ positions: Int) -> Void) -> [Int] {
        var alive: [(tokens: [Int], score: Float)] = [([], 0)]
        var done: [(tokens: [Int], score: Float)] = []
        func normalised(_ h: (tokens: [Int], score: Float)) -> Float {
            h.score / Foundation.pow(Float(h.tokens.count + 1), lengthPenalty)
        }
        for position in 0..<min(maximumLength + 1, configuration.maximumLength) where !alive.isEmpty {
            let distributions = step(alive.map { $0.tokens.last ?? ReportVocabulary.beginning }, position)
            var candidates: [(parent: Int, token: Int, score: Float)] = []
            for (row, hypothesis) in alive.enumerated() {
                let scores = distributions[row].map { Foundation.log($0 + 1e-9) }
                for id in Self.top(width, of: scores) { candidates.append((row, id, hypothesis.score + scores[id])) }
            }
            candidates.sort { $0.score > $1.score }
            var kept: [(tokens: [Int], score: Float)] = [], parents: [Int] = []
            for candidate in candidates {
                let tokens = alive[candidate.parent].tokens
                if candidate.token == ReportVocabulary.end || tokens.count == maximumLength {
                    done.append((tokens, candidate.score))
                } else {
                    kept.append((tokens + [candidate.token], candidate.score))
                    parents.append(candidate.parent)
                }
                if kept.count == width { break }
            }
            alive = kept
            if done.count >= width || alive.isEmpty { break }
            keep(parents, position + 1)
        }
        let finalists = done.isEmpty ? alive : done
        return finalists.max { normalised($0) < normalised($1) }!.tokens
    }

    private static func top(_ k: Int, of scores: [Float]) -> [Int] {
        var best: [Int] = []
        for index in scores.indices {
            if best.count < k || scores[index] > scores[best[best.count - 1]] {
                best.append(index)
                best.sort { scores[$0] > scores[$1] }
                if best.count > k { best.removeLast() }
            }
        }
        return best
    }

    /// Rows padded with `<pad>` to the longest.
    public static func padded(_ rows: [[Int]]) -> [[Int]] {
        let length = max(1, rows.map(\.count).max() ?? 1)
        return rows.map { $0 + [Int](repeating: ReportVocabulary.padding, count: length - $0.count) }
    }
}
