import Synchronization

/// ROUGE-1, ROUGE-2 and ROUGE-L F1 (Lin 2004) exactly as Google's `rouge-score` computes them
/// with `use_stemmer=True`: lowercase, every run of characters other than a–z and 0–9 is a
/// separator, tokens longer than 3 characters are Porter-stemmed (NLTK's), ROUGE-L is the
/// sentence-level longest common subsequence (not the summary-level "Lsum").
public enum Rouge {
    public struct Scores: Sendable, Equatable {
        public var rouge1: Double
        public var rouge2: Double
        public var rougeL: Double

        public init(rouge1: Double, rouge2: Double, rougeL: Double) {
            self.rouge1 = rouge1
            self.rouge2 = rouge2
            self.rougeL = rougeL
        }
    }

    public static func tokens(_ text: String) -> [String] {
        var tokens: [String] = [], current = ""
        for scalar in text.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                current.unicodeScalars.append(scalar)
            } else if !current.isEmpty {
                tokens.append(current)
                current = ""
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens.map { $0.count > 3 ? stem($0) : $0 }
    }

    /// Words already stemmed: reports use a few thousand words over and over, and stemming was
    /// a third of reading a report's neighbours. Bounded, against text that is no report.
    private static let stems = Mutex<[String: String]>([:])

    private static func stem(_ word: String) -> String {
        if let known = stems.withLock({ $0[word] }) { return known }
        let stem = PorterStemmer.stem(word)
        stems.withLock { if $0.count < 100_000 { $0[word] = stem } }
        return stem
    }

    /// F1 of `prediction` against `reference`.
    public static func scores(reference: String, prediction: String) -> Scores {
        let target = tokens(reference), predicted = tokens(prediction)
        return Scores(rouge1: nGramF1(target, predicted, n: 1), rouge2: nGramF1(target, predicted, n: 2),
                      rougeL: lcsF1(target, predicted))
    }

    static func f1(overlap: Int, predicted: Int, target: Int) -> Double {
        let precision = Double(overlap) / Double(max(predicted, 1)), recall = Double(overlap) / Double(max(target, 1))
        return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
    }

    static func nGramF1(_ target: [String], _ predicted: [String], n: Int) -> Double {
        func counts(_ tokens: [String]) -> [ArraySlice<String>: Int] {
            guard tokens.count >= n else { return [:] }
            return (0...(tokens.count - n)).reduce(into: [:]) { $0[tokens[$1..<($1 + n)], default: 0] += 1 }
        }
        let t = counts(target), p = counts(predicted)
        let overlap = t.reduce(0) { $0 + min($1.value, p[$1.key] ?? 0) }
        return f1(overlap: overlap, predicted: p.values.reduce(0, +), target: t.values.reduce(0, +))
    }

    /// Over tokens or over ids that stand for them (a report's candidates are compared with
    /// every neighbour's impression: comparing ids, not strings, was most of that).
    static func lcsF1<Token: Equatable>(_ target: [Token], _ predicted: [Token]) -> Double {
        guard !target.isEmpty, !predicted.isEmpty else { return 0 }
        var previous = [Int](repeating: 0, count: predicted.count + 1), current = previous
        for t in target {
            for (j, p) in predicted.enumerated() {
                current[j + 1] = t == p ? previous[j] + 1 : max(previous[j + 1], current[j])
            }
            swap(&previous, &current)
        }
        return f1(overlap: previous[predicted.count], predicted: predicted.count, target: target.count)
    }

    /// Each token's id, the same for the same token across all of `texts`.
    static func ids(_ texts: [[String]]) -> [[Int]] {
        var ids: [String: Int] = [:]
        return texts.map { tokens in tokens.map { token in ids[token] ?? { ids[token] = ids.count; return ids.count - 1 }() } }
    }

    /// The mean of each score over pairs.
    public static func mean(_ all: [Scores]) -> Scores {
        let n = Double(max(all.count, 1))
        return Scores(rouge1: all.reduce(0) { $0 + $1.rouge1 } / n, rouge2: all.reduce(0) { $0 + $1.rouge2 } / n,
                      rougeL: all.reduce(0) { $0 + $1.rougeL } / n)
    }
}
