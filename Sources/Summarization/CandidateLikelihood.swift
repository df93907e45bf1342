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
        CandidateScorer(model: self, source: source).logLikelihoods(of: candidates)
    }

    /// What scoring candidates against one source needs of it, computed once however many calls
    /// score candidates against it: its encoding and each decoder layer's cross-attention keys
    /// and values.
    struct CandidateScorer {
        let model: SummarizerTransformer
        let source: [Int]
        private let memory: Memory
        private let sourceKeysAndValues: [(Tensor, Tensor)]

        init(model: SummarizerTransformer, source: [Int]) {
            self.model = model
            self.source = source
            memory = model.encode([source])
            sourceKeysAndValues = (0..<model.configuration.decoderLayers).map { [memory] in model.crossKeysAndValues(memory, layer: $0) }
        }

        func logLikelihoods(of candidates: [[Int]]) -> [Float] {
            var likelihoods = [Float](repeating: 0, count: candidates.count)
            for group in SummarizerTransformer.lengthGroups(candidates.map { $0.count + 1 }) {
                let rows = [Int](repeating: 0, count: group.count)
                let found = model.logLikelihoods(of: group.map { candidates[$0] }, source: source, memory: memory.selecting(rows),
                                                 crossKeysAndValues: sourceKeysAndValues.map { ($0.0.selectingRows(rows), $0.1.selectingRows(rows)) })
                for (index, likelihood) in zip(group, found) { likelihoods[index] = likelihood }
            }
            return likelihoods
        }
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
    fileprivate func logLikelihoods(of candidates: [[Int]], source: [Int], memory: Memory,
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
