import Foundation
import Reports

/// Reports RadStream has been given — each one's FINDINGS and the radiologist's IMPRESSION — and
/// the nearest of them to a new report's FINDINGS by TF-IDF cosine (log-scaled inverse document
/// frequency over the memory's findings, ROUGE's stemmed tokens).
///
/// Two thirds of new IU impressions are word for word the impression of some earlier report, so
/// what earlier reports with similar findings concluded is the strongest evidence of what this
/// one will: the reranker weighs it against the model's own output. An inverted index keeps a
/// query to the entries that share a word with it.
public struct ReportMemory: Sendable {
    public struct Entry: Sendable, Equatable {
        /// Whose report it is (an IU report id, a study id): a report is never its own neighbour.
        public let id: String
        public let findings: String
        public let impression: String

        public init(id: String, findings: String, impression: String) {
            self.id = id
            self.findings = findings
            self.impression = impression
        }
    }

    public struct Neighbour: Sendable, Equatable {
        public let entry: Entry
        /// TF-IDF cosine of the two findings, in [0, 1].
        public let similarity: Double
        /// The impression's ROUGE tokens, read once when the memory was built.
        public let impressionTokens: [String]
    }

    /// What a findings text is indexed by: its words, or its words and each pair of adjacent
    /// words (which catch a radiologist's template — "no focal airspace consolidation" — and
    /// with it the way that radiologist concludes: nearest-findings retrieval gains 0.02 ROUGE-L).
    public enum Terms: String, Codable, Sendable {
        case words, wordsAndPairs
    }

    public let entries: [Entry]
    public let terms: Terms
    let idf: [String: Double]
    /// term → (entry, weight in that entry's unit vector), entries in ascending order.
    let postings: [String: [(entry: Int, weight: Double)]]
    /// How many entries conclude each impression (by its ROUGE tokens).
    let conclusions: [[String]: Int]
    /// What the labeler reads as stated in each conclusion: read once here, since the same
    /// conclusions are candidates of report after report.
    let statedInConclusion: [[String]: Set<Observation>]
    /// Each entry's impression as ROUGE tokens: a conclusion is compared with report after report.
    let impressionTokens: [[String]]

    public init(_ entries: [Entry], terms: Terms = .wordsAndPairs) {
        self.entries = entries
        self.terms = terms
        let documents = entries.map { Self.terms(of: $0.findings, terms) }
        var frequency: [String: Int] = [:]
        for document in documents { for term in Set(document) { frequency[term, default: 0] += 1 } }
        let n = Double(max(documents.count, 1))
        let idf = frequency.mapValues { Foundation.log(n / Double($0)) + 1 }
        var postings: [String: [(entry: Int, weight: Double)]] = [:]
        for (index, document) in documents.enumerated() {
            for (term, weight) in Self.vector(document, idf: idf) { postings[term, default: []].append((index, weight)) }
        }
        self.idf = idf
        self.postings = postings
        var conclusions: [[String]: Int] = [:], stated: [[String]: Set<Observation>] = [:]
        let labeler = ReportLabeler()
        impressionTokens = entries.map { Rouge.tokens($0.impression) }
        for (entry, key) in zip(entries, impressionTokens) {
            conclusions[key, default: 0] += 1
            if stated[key] == nil { stated[key] = labeler.statedObservations(in: entry.impression) }
        }
        self.conclusions = conclusions
        statedInConclusion = stated
    }

    /// log(1 + entries concluding `impression`) / log(1 + entries): 0 for a conclusion no
    /// earlier report reached, 1 for one that every report reached.
    public func frequency(ofConclusion tokens: [String]) -> Double {
        guard entries.count > 0 else { return 0 }
        return Foundation.log(1 + Double(conclusions[tokens] ?? 0)) / Foundation.log(1 + Double(entries.count))
    }

    public init(_ pairs: [FindingsImpressionPair], terms: Terms = .wordsAndPairs) {
        self.init(pairs.map { Entry(id: $0.reportID, findings: $0.findings, impression: $0.impression) }, terms: terms)
    }

    /// Every IU XML report of `folder` with both sections, read in place.
    public init(contentsOf folder: URL) throws {
        self.init(try ReportSplit.allPairs(in: folder))
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The `count` entries nearest to `findings`, nearest first (ties: the earlier entry), leaving
    /// out those whose id is `excluding` and those that share no word with it.
    public func nearest(_ findings: String, count: Int, excluding id: String? = nil) -> [Neighbour] {
        guard count > 0 else { return [] }
        let query = Self.vector(Self.terms(of: findings, terms), idf: idf).sorted { $0.key < $1.key }
        var scores = [Double](repeating: 0, count: entries.count), scored: [Int] = []
        // Summed in term order: a dictionary's order changes from run to run, and so would the
        // last bits of the sums and the winner of a near tie.
        for (term, weight) in query {
            for posting in postings[term] ?? [] {
                if scores[posting.entry] == 0 { scored.append(posting.entry) }
                scores[posting.entry] += weight * posting.weight
            }
        }
        // The best `count`, kept in order as the scored entries pass (nearest first, ties: the
        // earlier entry): most entries share a common word with any findings, and sorting them
        // all cost more than the search.
        func before(_ a: Int, _ b: Int) -> Bool { scores[a] > scores[b] || (scores[a] == scores[b] && a < b) }
        var best: [Int] = []
        for entry in scored where id == nil || entries[entry].id != id {
            if best.count == count, !before(entry, best[count - 1]) { continue }
            let place = best.firstIndex { before(entry, $0) } ?? best.count
            best.insert(entry, at: place)
            if best.count > count { best.removeLast() }
        }
        return best.map { Neighbour(entry: entries[$0], similarity: min(1, scores[$0]), impressionTokens: impressionTokens[$0]) }
    }

    static func terms(of text: String, _ terms: Terms) -> [String] {
        let words = Rouge.tokens(text)
        guard terms == .wordsAndPairs, words.count > 1 else { return words }
        return words + zip(words, words.dropFirst()).map { $0 + " " + $1 }
    }

    static func vector(_ tokens: [String], idf: [String: Double]) -> [String: Double] {
        var weights: [String: Double] = [:]
        for term in tokens { if let weight = idf[term] { weights[term, default: 0] += weight } }
        let norm = weights.keys.sorted().reduce(0) { $0 + weights[$1]! * weights[$1]! }.squareRoot()
        return norm > 0 ? weights.mapValues { $0 / norm } : weights
    }
}
