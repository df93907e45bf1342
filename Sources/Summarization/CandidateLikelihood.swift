import Foundation
import TensorEngine

extension SummarizerTransformer {
    /// log p(candidate | source) of each candidate — its tokens and the closing `<eos>`, the copy
    /// head included — teacher-forced in one pass of the decoder over all of them: how likely the
    /// model finds an impression it did not write itself (an earlier report's). Inference only.
    public func logLikelihoods(of candidates: [[Int]], source: [Int]) -> [Float] {
        guard !candidates.isEmpty else { return [] }
        let memory = encode([source]).selecting([Int](repeating: 0, count: candidates.count))
        let targets = Self.padded(candidates.map { [ReportVocabulary.beginning] + $0 + [ReportVocabulary.end] })
        let inputs = targets.map { Array($0.dropLast()) }
        let output = decode(inputs, memory: memory)
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
