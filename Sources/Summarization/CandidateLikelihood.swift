import Foundation
import TensorEngine

extension SummarizerTransformer {
    /// log p(candidate | source) of each candidate — its tokens and the closing `<eos>`, the copy
    /// head included — teacher-forced: how likely the model finds an impression it did not write
    /// itself (an earlier report's). Inference only.
    public func logLikelihoods(of candidates: [[Int]], source: [Int]) -> [Float] {
        CandidateScorer(model: self, source: source).logLikelihoods(of: candidates)
    }

    /// Scores candidates against one source, encoded once however many calls score against it.
    /// Every token of every candidate is fed to the `DecoderPlan` in one step (a row per
    /// candidate, each token at its position): no padding, and no tensor per operation (on the
    /// graph, the candidates padded to the longest, this cost three times as much).
    struct CandidateScorer {
        let model: SummarizerTransformer
        let source: [Int]
        private let memory: Memory

        /// `encoded`: the encoder's states of `source` when they are at hand (what `encodeOnPlan`
        /// gives the source alone or in a batch: each source is encoded on its own).
        init(model: SummarizerTransformer, source: [Int], encoded: [Float]? = nil) {
            self.model = model
            self.source = source
            if let encoded {
                precondition(encoded.count == source.count * model.configuration.width, "states for \(source.count) positions")
                memory = Memory(states: Tensor(shape: [source.count, model.configuration.width], data: encoded), batch: 1, length: source.count,
                                keyMask: Tensor.zeros([1, 1, 1, source.count]), sources: [source], copies: true)
            } else {
                memory = model.encodeOnPlan([source])
            }
        }

        func logLikelihoods(of candidates: [[Int]]) -> [Float] {
            guard !candidates.isEmpty else { return [] }
            var tokens: [Int] = [], rows: [Int] = [], positions: [Int] = [], next: [Int] = []
            for (row, candidate) in candidates.enumerated() {
                for (position, token) in ([ReportVocabulary.beginning] + candidate).enumerated() {
                    tokens.append(token)
                    rows.append(row)
                    positions.append(position)
                    next.append(position < candidate.count ? candidate[position] : ReportVocabulary.end)
                }
            }
            let plan = DecoderPlan(model: model, weights: model.inferenceWeights, memory: memory,
                                   sourceOfRow: [Int](repeating: 0, count: candidates.count), length: (positions.max() ?? 0) + 1,
                                   capacity: tokens.count)
            let distributions = plan.step(tokens, going: rows, positions: positions)
            let v = model.configuration.vocabularySize
            var totals = [Float](repeating: 0, count: candidates.count)
            for (i, row) in rows.enumerated() { totals[row] += Foundation.log(distributions[i * v + next[i]] + 1e-9) }
            return totals
        }
    }
}
