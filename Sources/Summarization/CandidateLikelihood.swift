import Foundation
import TensorEngine

extension SummarizerTransformer {
    /// log p(candidate | source) of each candidate — its tokens and the closing `<eos>`, the copy
    /// head included — teacher-forced: how likely the model finds an impression it did not write
    /// itself (an earlier report's). The source is encoded once, and its keys and values for the
    /// decoder's cross-attention computed once, for every candidate; candidates of similar length
    /// are decoded together, so that a long one pads few short ones (padding all of a report's
    /// candidates to the longest made 2.5 times the positions there were). Inference only.
    public func logLikelihoods(of candidates: [[Int]], source: [Int]) -> [Float] {
        guard !candidates.isEmpty else { return [] }
        let memory = encode([source])
        let sourceKeysAndValues = (0..<configuration.decoderLayers).map { crossKeysAndValues(memory, layer: $0) }
        var likelihoods = [Float](repeating: 0, count: candidates.count)
        for group in Self.lengthGroups(candidates.map { $0.count + 1 }) {
            let rows = [Int](repeating: 0, count: group.count)
            let found = logLikelihoods(of: group.map { candidates[$0] }, source: source, memory: memory.selecting(rows),
                                       crossKeysAndValues: sourceKeysAndValues.map { ($0.0.selectingRows(rows), $0.1.selectingRows(rows)) })
            for (index, likelihood) in zip(group, found) { likelihoods[index] = likelihood }
        }
        return likelihoods
    }

    /// The indices of `lengths` in groups of similar length: in order of length, a group takes
    /// the next while padding all of it to that one's length costs at most `slack` times its
    /// tokens (a decoding pass has a cost of its own, so a group of one each is not the best).
    static func lengthGroups(_ lengths: [Int], slack: Double = 1.25) -> [[Int]] {
        var groups: [[Int]] = [], tokens = 0
        for index in lengths.indices.sorted(by: { (lengths[$0], $0) < (lengths[$1], $1) }) {
            if let group = groups.last, Double((group.count + 1) * lengths[index]) <= slack * Double(tokens + lengths[index]) {
                groups[groups.count - 1].append(index)
                tokens += lengths[index]
            } else {
                groups.append([index])
                tokens = lengths[index]
            }
        }
        return groups
    }

    /// One teacher-forced pass over candidates padded to one length, `memory` a row per candidate.
    private func logLikelihoods(of candidates: [[Int]], source: [Int], memory: Memory,
                                crossKeysAndValues: [(Tensor, Tensor)]) -> [Float] {
        let targets = Self.padded(candidates.map { [ReportVocabulary.beginning] + $0 + [ReportVocabulary.end] })
        let inputs = targets.map { Array($0.dropLast()) }
        let output = decode(inputs, memory: memory, crossKeysAndValues: crossKeysAndValues)
        let (length, v, sourceLength) = (inputs[0].count, configuration.vocabularySize, memory.length)
        let vocabulary = vocabularyDistribution(output.states).data
        let copyWeights = output.copyWeights.data, gates = output.gate.data
        return targets.enumerated().map { b, row in
            var total: Float = 0
            for (t, id) in row.dropFirst().enumerated() where id != ReportVocabulary.padding {
                let position = b * length + t, g = gates[position]
                var copied: Float = 0
                if memory.copies {
                    for (s, word) in source.enumerated() where word == id { copied += copyWeights[position * sourceLength + s] }
                }
                total += Foundation.log(g * vocabulary[position * v + id] + (1 - g) * copied + 1e-9)
            }
            return total
        }
    }
}
