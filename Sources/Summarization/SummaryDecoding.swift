import Foundation
import TensorEngine

/// Greedy and beam-search decoding of the summarizer transformer.
///
/// Each step reruns the decoder over the whole prefix (no key/value cache): impressions are short
/// (10 tokens on average, 60 at most here), so the quadratic cost stays below the encoder's.
extension SummarizerTransformer {
    /// The most likely token at each step, for a batch of sources at once; each output stops at
    /// `<eos>` or after `maximumLength` tokens.
    public func greedy(_ sources: [[Int]], maximumLength: Int) -> [[Int]] {
        guard !sources.isEmpty else { return [] }
        let memory = encode(Self.padded(sources))
        var outputs = [[Int]](repeating: [], count: sources.count)
        var finished = [Bool](repeating: false, count: sources.count)
        for _ in 0..<min(maximumLength, configuration.maximumLength - 1) where finished.contains(false) {
            let next = lastLogProbabilities(outputs, memory: memory)
            for row in outputs.indices where !finished[row] {
                let scores = next[row]
                let best = scores.indices.max { scores[$0] < scores[$1] }!
                if best == ReportVocabulary.end { finished[row] = true } else { outputs[row].append(best) }
            }
        }
        return outputs
    }

    /// Beam search for one source: `width` hypotheses kept at each step, ranked at the end by
    /// log-probability over length^`lengthPenalty` (so that short endings are not favoured just
    /// for having fewer factors).
    public func beam(_ source: [Int], width: Int, maximumLength: Int, lengthPenalty: Float = 1) -> [Int] {
        precondition(width >= 1, "a beam needs at least one hypothesis")
        let memory = encode([source])
        var alive: [(tokens: [Int], score: Float)] = [([], 0)]
        var done: [(tokens: [Int], score: Float)] = []
        func normalised(_ h: (tokens: [Int], score: Float)) -> Float {
            h.score / Foundation.pow(Float(h.tokens.count + 1), lengthPenalty)
        }
        for _ in 0..<min(maximumLength, configuration.maximumLength - 1) where !alive.isEmpty {
            let next = lastLogProbabilities(alive.map(\.tokens), memory: memory.repeated(alive.count))
            var candidates: [(tokens: [Int], score: Float, ended: Bool)] = []
            for (row, hypothesis) in alive.enumerated() {
                let scores = next[row]
                for id in Self.top(width, of: scores) {
                    let ended = id == ReportVocabulary.end
                    candidates.append((ended ? hypothesis.tokens : hypothesis.tokens + [id], hypothesis.score + scores[id], ended))
                }
            }
            candidates.sort { $0.score > $1.score }
            alive = []
            for candidate in candidates {
                if candidate.ended { done.append((candidate.tokens, candidate.score)) } else { alive.append((candidate.tokens, candidate.score)) }
                if alive.count == width { break }
            }
            if done.count >= width { break }
        }
        let finalists = done.isEmpty ? alive : done
        return finalists.max { normalised($0) < normalised($1) }!.tokens
    }

    /// `count` outputs drawn from the model's own distribution for one source, token by token
    /// (ancestral sampling), from `generator`.
    public func samples(_ source: [Int], count: Int, maximumLength: Int, generator: inout SeededGenerator) -> [[Int]] {
        let memory = encode([source]).repeated(count)
        var outputs = [[Int]](repeating: [], count: count)
        var finished = [Bool](repeating: false, count: count)
        for _ in 0..<min(maximumLength, configuration.maximumLength - 1) where finished.contains(false) {
            let output = decode(Self.padded(outputs.map { [ReportVocabulary.beginning] + $0 }), memory: memory)
            let next = nextTokenDistribution(output, lastPositions: outputs.map(\.count), memory: memory)
            for row in outputs.indices where !finished[row] {
                var threshold = generator.unit() * next[row].reduce(0, +), chosen = ReportVocabulary.end
                for (id, p) in next[row].enumerated() {
                    threshold -= p
                    if threshold <= 0 { chosen = id; break }
                }
                if chosen == ReportVocabulary.end { finished[row] = true } else { outputs[row].append(chosen) }
            }
        }
        return outputs
    }

    /// Log-probabilities of the token after each prefix, one array per prefix.
    private func lastLogProbabilities(_ prefixes: [[Int]], memory: Memory) -> [[Float]] {
        let output = decode(Self.padded(prefixes.map { [ReportVocabulary.beginning] + $0 }), memory: memory)
        return nextTokenDistribution(output, lastPositions: prefixes.map(\.count), memory: memory)
            .map { $0.map { Foundation.log($0 + 1e-9) } }
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
    static func padded(_ rows: [[Int]]) -> [[Int]] {
        let length = max(1, rows.map(\.count).max() ?? 1)
        return rows.map { $0 + [Int](repeating: ReportVocabulary.padding, count: length - $0.count) }
    }
}

extension SummarizerTransformer.Memory {
    /// The one encoded source of this memory, `count` times (the rows of a beam).
    func repeated(_ count: Int) -> Self {
        precondition(batch == 1, "only a single source is repeated")
        func tile(_ t: Tensor) -> Tensor {
            Tensor(shape: [count] + t.shape.dropFirst(), data: [Float]((0..<count).map { _ in t.data }.joined()))
        }
        return Self(states: Tensor(shape: [count * length, states.shape[1]], data: [Float]((0..<count).map { _ in states.data }.joined())),
                    batch: count, length: length, keyMask: tile(keyMask), sources: [[Int]](repeating: sources[0], count: count))
    }
}
