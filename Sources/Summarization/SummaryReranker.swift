import Foundation

/// What the reranker knows of one candidate impression of a report.
public struct CandidateFeatures: Codable, Sendable, Equatable {
    /// The summarizer's log-likelihood of the candidate given the findings, per token (its words
    /// and `<eos>`): how well it reads as this report's conclusion to the model.
    public var meanLogLikelihood: Double = 0
    /// The TF-IDF cosine of the nearest earlier report that concluded this impression (0 when
    /// none did: the model's own wording).
    public var nearestSimilarity: Double = 0
    /// The share of the neighbours' similarity held by those that concluded exactly this.
    public var neighbourVote: Double = 0
    /// Its ROUGE-L against the neighbours' impressions, weighted by their similarity: whether it
    /// says what similar reports concluded, in whatever words (minimum Bayes risk with the
    /// neighbours as the evidence).
    public var consensus: Double = 0
    /// 1 for the summarizer's own output.
    public var fromModel: Double = 0
    /// The share of the 14 observations that the labeler reads as stated (positive or uncertain)
    /// in both the findings and the candidate, or in neither: does it conclude what was seen?
    public var clinicalAgreement: Double = 0
    /// How common the impression is among all the memory's, log(1 + reports concluding it) /
    /// log(1 + reports): the prior of a conclusion, whatever the findings.
    public var memoryFrequency: Double = 0
    /// Its length in ROUGE tokens, over 20.
    public var length: Double = 0

    public init() {}

    static let names = ["meanLogLikelihood", "nearestSimilarity", "neighbourVote", "consensus", "fromModel",
                        "clinicalAgreement", "memoryFrequency", "length"]

    var values: [Double] {
        [meanLogLikelihood, nearestSimilarity, neighbourVote, consensus, fromModel, clinicalAgreement, memoryFrequency, length]
    }

    init(values: [Double]) {
        (meanLogLikelihood, nearestSimilarity, neighbourVote, consensus, fromModel) = (values[0], values[1], values[2], values[3], values[4])
        (clinicalAgreement, memoryFrequency, length) = (values[5], values[6], values[7])
    }
}

/// Chooses a report's impression among candidates — the summarizer's own and the impressions of
/// the nearest earlier reports — by a weighted sum of their features; the weights are fitted to
/// maximise the ROUGE-L of what is chosen (coordinate ascent over a grid), on reports the
/// measurement does not use.
public struct SummaryReranker: Codable, Sendable, Equatable {
    /// Neighbours whose impressions become candidates (and vote).
    public var neighbours: Int
    public var weights: CandidateFeatures

    public init(neighbours: Int, weights: CandidateFeatures) {
        self.neighbours = neighbours
        self.weights = weights
    }

    /// Written as sorted, indented JSON (what `reranker.json` holds).
    public func write(to file: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: file)
    }

    /// The model's likelihood alone.
    public static func likelihoodOnly(neighbours: Int) -> Self {
        var weights = CandidateFeatures()
        weights.meanLogLikelihood = 1
        return Self(neighbours: neighbours, weights: weights)
    }

    public func score(_ features: CandidateFeatures) -> Double {
        zip(weights.values, features.values).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// The index of the best-scoring candidate (ties: the earlier, the model's own first).
    public func choose(_ candidates: [CandidateFeatures]) -> Int? {
        candidates.indices.max { score(candidates[$0]) < score(candidates[$1]) || (score(candidates[$0]) == score(candidates[$1]) && $0 > $1) }
    }

    /// Fills in `meanLogLikelihood` (from `meanLogLikelihoods` of the candidates' indices) of every
    /// candidate that could be chosen, and −∞ for the rest, so that `choose` picks what it would
    /// with every likelihood — scoring a candidate is most of the reranked summarizer's time.
    /// A log-likelihood is at most 0, so with a positive weight a candidate's score is at most
    /// its score at 0 (the likelihood is the sum's first term, and rounding keeps the order); a
    /// candidate whose bound is below the best score found cannot win, nor tie.
    func scoreLikelihoodsThatCouldWin(_ features: inout [CandidateFeatures], meanLogLikelihoods: (_ candidates: [Int]) -> [Double]) {
        func score(_ candidates: [Int]) {
            for (index, likelihood) in zip(candidates, meanLogLikelihoods(candidates)) { features[index].meanLogLikelihood = likelihood }
        }
        let weight = weights.meanLogLikelihood
        guard weight >= 0 else { return score(Array(features.indices)) }
        guard weight > 0 else {
            for index in features.indices { features[index].meanLogLikelihood = 0 }
            return
        }
        // At most 0 in exact arithmetic; the margin covers a probability rounded past 1.
        let bounds = features.map { candidate in
            var bounded = candidate
            bounded.meanLogLikelihood = 1e-3
            return self.score(bounded)
        }
        let byBound = features.indices.sorted { bounds[$0] > bounds[$1] || (bounds[$0] == bounds[$1] && $0 < $1) }
        for index in features.indices { features[index].meanLogLikelihood = -.infinity }
        // The likeliest winner first; then every candidate whose bound reaches its score.
        score([byBound[0]])
        let best = self.score(features[byBound[0]])
        let contenders = byBound.dropFirst().filter { bounds[$0] >= best }
        if !contenders.isEmpty { score(contenders) }
    }

    /// One report's candidates as a fit sees them: their features and the ROUGE-L each would score.
    public struct Example: Sendable {
        public let features: [CandidateFeatures]
        public let rougeL: [Double]

        public init(features: [CandidateFeatures], rougeL: [Double]) {
            precondition(features.count == rougeL.count && !features.isEmpty, "a report needs candidates, each with its ROUGE-L")
            self.features = features
            self.rougeL = rougeL
        }
    }

    /// Mean ROUGE-L of what these weights choose.
    public func meanRougeL(_ examples: [Example]) -> Double {
        guard !examples.isEmpty else { return 0 }
        return examples.reduce(0) { $0 + $1.rougeL[choose($1.features)!] } / Double(examples.count)
    }

    /// Weights fitted on `examples`: starting from the likelihood alone, each weight in turn set
    /// to the grid value that chooses best, until a pass changes nothing (at most `passes`).
    public static func fit(_ examples: [Example], neighbours: Int,
                           grid: [Double] = [-8, -4, -2, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 2, 4, 8, 16], passes: Int = 6) -> Self {
        var best = likelihoodOnly(neighbours: neighbours)
        var bestScore = best.meanRougeL(examples)
        for _ in 0..<passes {
            var improved = false
            for k in CandidateFeatures.names.indices {
                for value in grid {
                    var values = best.weights.values
                    values[k] = value
                    let trial = Self(neighbours: neighbours, weights: CandidateFeatures(values: values))
                    let score = trial.meanRougeL(examples)
                    if score > bestScore + 1e-12 { (best, bestScore, improved) = (trial, score, true) }
                }
            }
            if !improved { break }
        }
        return best
    }
}
