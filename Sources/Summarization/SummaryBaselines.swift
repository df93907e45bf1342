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
    /// cosine (`ReportMemory`, by words as the design's baseline is defined, or by words and word
    /// pairs); the first training report's when none shares a word.
    public struct NearestFindings: Sendable {
        let memory: ReportMemory

        public init(_ training: [FindingsImpressionPair], terms: ReportMemory.Terms = .words) { memory = ReportMemory(training, terms: terms) }

        public func impression(for findings: String) -> String {
            memory.nearest(findings, count: 1).first?.entry.impression ?? memory.entries[0].impression
        }
    }
}
