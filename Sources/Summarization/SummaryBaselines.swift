import Foundation
import Reports

/// The two baselines the summarizer must beat, built from the training pairs only.
public enum SummaryBaselines {
    /// The training set's most frequent impression (texts counted by their ROUGE tokens, so
    /// "No acute disease." and "No acute disease" are one), said of every report.
    public static func mostFrequentImpression(_ training: [FindingsImpressionPair]) -> String {
        var counts: [[String]: (count: Int, text: String)] = [:]
        for pair in training {
            let key = Rouge.tokens(pair.impression)
            counts[key, default: (0, pair.impression)].count += 1
        }
        return counts.max { $0.value.count < $1.value.count || ($0.value.count == $1.value.count && $0.value.text > $1.value.text) }!.value.text
    }

    /// Retrieval: the impression of the training report whose FINDINGS are nearest by TF-IDF
    /// cosine (log-scaled inverse document frequency over the training findings).
    public struct NearestFindings: Sendable {
        let vectors: [[String: Double]]
        let impressions: [String]
        let idf: [String: Double]

        public init(_ training: [FindingsImpressionPair]) {
            let documents = training.map { Rouge.tokens($0.findings) }
            var frequency: [String: Int] = [:]
            for document in documents { for term in Set(document) { frequency[term, default: 0] += 1 } }
            let n = Double(documents.count)
            let idf = frequency.mapValues { Foundation.log(n / Double($0)) + 1 }
            self.idf = idf
            impressions = training.map(\.impression)
            vectors = documents.map { Self.vector($0, idf: idf) }
        }

        func vector(_ tokens: [String]) -> [String: Double] { Self.vector(tokens, idf: idf) }

        static func vector(_ tokens: [String], idf: [String: Double]) -> [String: Double] {
            var weights: [String: Double] = [:]
            for term in tokens { if let weight = idf[term] { weights[term, default: 0] += weight } }
            // Summed in term order: a dictionary's order changes from run to run, and so would
            // the last bits of the sums and the winner of a near tie.
            let norm = weights.keys.sorted().reduce(0) { $0 + weights[$1]! * weights[$1]! }.squareRoot()
            return norm > 0 ? weights.mapValues { $0 / norm } : weights
        }

        public func impression(for findings: String) -> String {
            let query = vector(Rouge.tokens(findings)).sorted { $0.key < $1.key }
            var best = (score: -1.0, index: 0)
            for (index, candidate) in vectors.enumerated() {
                let score = query.reduce(0) { $0 + $1.value * (candidate[$1.key] ?? 0) }
                if score > best.score { best = (score, index) }
            }
            return impressions[best.index]
        }
    }
}
