import Foundation
import Reports
import TestSupport
import Testing
@testable import Summarization

/// The memory's search, on ids and flat postings, finds what the plain TF-IDF search by term
/// strings found: the same neighbours in the same order with the same similarities, bit for bit.
@Suite("The report memory's search")
struct ReportMemorySearchTests {
    /// The plain search it replaced: terms as strings, a dictionary of postings, summed in the
    /// terms' order as strings.
    struct PlainSearch {
        let idf: [String: Double]
        let postings: [String: [(entry: Int, weight: Double)]]
        let terms: ReportMemory.Terms

        init(_ entries: [ReportMemory.Entry], terms: ReportMemory.Terms) {
            let documents = entries.map { ReportMemory.terms(of: $0.findings, terms) }
            var frequency: [String: Int] = [:]
            for document in documents { for term in Set(document) { frequency[term, default: 0] += 1 } }
            let n = Double(max(documents.count, 1))
            idf = frequency.mapValues { Foundation.log(n / Double($0)) + 1 }
            var postings: [String: [(entry: Int, weight: Double)]] = [:]
            for (index, document) in documents.enumerated() {
                for (term, weight) in Self.vector(document, idf: idf) { postings[term, default: []].append((index, weight)) }
            }
            self.postings = postings
            self.terms = terms
        }

        static func vector(_ tokens: [String], idf: [String: Double]) -> [String: Double] {
            var weights: [String: Double] = [:]
            for term in tokens { if let weight = idf[term] { weights[term, default: 0] += weight } }
            let norm = weights.keys.sorted().reduce(0) { $0 + weights[$1]! * weights[$1]! }.squareRoot()
            return norm > 0 ? weights.mapValues { $0 / norm } : weights
        }

        /// Every entry sharing a term with the findings, nearest first (ties: the earlier entry).
        func ranked(_ findings: String) -> [(entry: Int, score: Double)] {
            var scores: [Int: Double] = [:]
            for (term, weight) in Self.vector(ReportMemory.terms(of: findings, terms), idf: idf).sorted(by: { $0.key < $1.key }) {
                for posting in postings[term] ?? [] { scores[posting.entry, default: 0] += weight * posting.weight }
            }
            return scores.map { (entry: $0.key, score: $0.value) }.sorted { $0.score > $1.score || ($0.score == $1.score && $0.entry < $1.entry) }
        }
    }

    @Test(arguments: [ReportMemory.Terms.wordsAndPairs, .words])
    func theSearchFindsWhatThePlainSearchFound(terms: ReportMemory.Terms) throws {
        let pairs = try ReportSplit.allPairs(in: TestData.root.appending(path: "openi/reports"))
        try #require(pairs.count > 2_000)
        let memory = ReportMemory(pairs, terms: terms)
        let plain = PlainSearch(memory.entries, terms: terms)
        // Findings of the memory and made-up ones: words it has never seen, one word, none.
        let queries = pairs.enumerated().filter { $0.offset % 7 == 0 }.map(\.element.findings)
            + ["Zebra crossing the left lung.", "effusion", "", "... !!!", "Heart heart heart size size normal normal."]
        for findings in queries {
            let expected = plain.ranked(findings).prefix(8)
            let found = memory.nearest(findings, count: 8)
            #expect(found.map(\.entry) == expected.map { memory.entries[$0.entry] }, "\(findings)")
            #expect(found.map(\.similarity) == expected.map { min(1, $0.score) }, "\(findings)")
        }
        // Leaving out a report leaves out its entry and nothing else.
        let own = memory.entries[11]
        let excluded = memory.nearest(own.findings, count: 8, excluding: own.id)
        #expect(excluded.map(\.entry) == plain.ranked(own.findings).map { memory.entries[$0.entry] }.filter { $0.id != own.id }.prefix(8).map { $0 })
    }
}
