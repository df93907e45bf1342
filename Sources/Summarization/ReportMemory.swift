import Foundation
import Reports

/// Reports RadStream has been given — each one's FINDINGS and the radiologist's IMPRESSION — and
/// the nearest of them to a new report's FINDINGS by TF-IDF cosine (log-scaled inverse document
/// frequency over the memory's findings, ROUGE's stemmed tokens).
///
/// Two thirds of new IU impressions are word for word the impression of some earlier report, so
/// what earlier reports with similar findings concluded is the strongest evidence of what this
/// one will: the reranker weighs it against the model's own output. An inverted index keeps a
/// query to the entries that share a word with it; its terms are ids and its postings flat
/// arrays, since a report's query walks a posting for most of the memory's entries.
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
    /// Each term's id: ids follow the terms' order as strings, so that a query sums its terms in
    /// an order that never changes from run to run (a dictionary's would, and with it the last
    /// bits of the sums and the winner of a near tie).
    let termIDs: [String: Int32]
    /// The id of each pair of adjacent words in the memory, by its two words' ids.
    let pairIDs: [PairKey: Int32]
    let idf: [Double]
    /// Each term's postings, entries in ascending order: `postingEntries[postingStarts[t]..<postingStarts[t + 1]]`
    /// and, alike, the weight of the term in each entry's unit vector.
    let postingStarts: [Int], postingEntries: [Int32], postingWeights: [Double]
    /// How many entries conclude each impression (by its ROUGE tokens).
    let conclusions: [[String]: Int]
    /// What the labeler reads as stated in each conclusion: read once here, since the same
    /// conclusions are candidates of report after report.
    let statedInConclusion: [[String]: Set<Observation>]
    /// Each entry's impression as ROUGE tokens: a conclusion is compared with report after report.
    let impressionTokens: [[String]]

    struct PairKey: Hashable {
        let first: Int32, second: Int32
    }

    public init(_ entries: [Entry], terms: Terms = .wordsAndPairs) {
        self.entries = entries
        self.terms = terms
        let documents = entries.map { Self.terms(of: $0.findings, terms) }
        var frequency: [String: Int] = [:]
        for document in documents { for term in Set(document) { frequency[term, default: 0] += 1 } }
        let n = Double(max(documents.count, 1))
        let sortedTerms = frequency.keys.sorted()
        let termIDs = Dictionary(uniqueKeysWithValues: sortedTerms.enumerated().map { ($1, Int32($0)) })
        let idf = sortedTerms.map { Foundation.log(n / Double(frequency[$0]!)) + 1 }
        var postings = [[(entry: Int32, weight: Double)]](repeating: [], count: sortedTerms.count)
        for (index, document) in documents.enumerated() {
            for (term, weight) in Self.vector(document.map { termIDs[$0]! }, idf: idf) { postings[Int(term)].append((Int32(index), weight)) }
        }
        self.termIDs = termIDs
        var pairIDs: [PairKey: Int32] = [:]
        for term in sortedTerms {
            let words = term.split(separator: " ")
            guard words.count == 2 else { continue }
            pairIDs[PairKey(first: termIDs[String(words[0])]!, second: termIDs[String(words[1])]!)] = termIDs[term]!
        }
        self.pairIDs = pairIDs
        self.idf = idf
        postingStarts = [0] + postings.reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1.count) }
        postingEntries = postings.flatMap { $0.map(\.entry) }
        postingWeights = postings.flatMap { $0.map(\.weight) }
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
        let query = Self.vector(queryTerms(of: findings), idf: idf)
        var scores = [Double](repeating: 0, count: entries.count)
        scores.withUnsafeMutableBufferPointer { scores in
            postingEntries.withUnsafeBufferPointer { postingEntries in
                postingWeights.withUnsafeBufferPointer { postingWeights in
                    for (term, weight) in query {
                        for posting in postingStarts[Int(term)]..<postingStarts[Int(term) + 1] {
                            scores[Int(postingEntries[posting])] += weight * postingWeights[posting]
                        }
                    }
                }
            }
        }
        // The best `count` of those sharing a term (every weight is positive), kept in order as
        // they pass (nearest first, ties: the earlier entry): most entries share a common word
        // with any findings, and sorting them all cost more than the search.
        func before(_ a: Int, _ b: Int) -> Bool { scores[a] > scores[b] || (scores[a] == scores[b] && a < b) }
        var best: [Int] = []
        for entry in scores.indices where scores[entry] > 0 && (id == nil || entries[entry].id != id) {
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

    /// The ids of a text's terms that the memory holds (a pair of words is looked up by its
    /// words' ids, with no string made for it).
    func queryTerms(of text: String) -> [Int32] {
        let words = Rouge.tokens(text).map { termIDs[$0] }
        var ids = words.compactMap { $0 }
        guard terms == .wordsAndPairs else { return ids }
        for (first, second) in zip(words, words.dropFirst()) {
            if let first, let second, let pair = pairIDs[PairKey(first: first, second: second)] { ids.append(pair) }
        }
        return ids
    }

    /// A text's unit TF-IDF vector, in the order of its terms' ids (the terms' order as strings).
    static func vector(_ terms: [Int32], idf: [Double]) -> [(term: Int32, weight: Double)] {
        var weights: [Int32: Double] = [:]
        for term in terms { weights[term, default: 0] += idf[Int(term)] }
        let sorted = weights.sorted { $0.key < $1.key }
        let norm = sorted.reduce(0) { $0 + $1.value * $1.value }.squareRoot()
        return sorted.map { (term: $0.key, weight: norm > 0 ? $0.value / norm : $0.value) }
    }
}
