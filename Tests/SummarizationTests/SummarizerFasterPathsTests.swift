import Foundation
import Reports
import TensorEngine
import Testing
@testable import Summarization

/// Each faster path of the summarizer gives what the plain one gives: candidates scored in
/// groups of similar length as each alone, and what the memo returns as what decoding or
/// scoring again would.
@Suite("Summarizer's faster paths")
struct SummarizerFasterPathsTests {
    static let pairs = SummarizerModelTests.pairs

    static let summarizer: Summarizer = {
        var options = SummarizerModelTests.tinyOptions
        options.epochs = 2
        return try! SummarizerTrainer(options: options).train(training: pairs)
    }()

    @Test func lengthGroupsPadLittleAndHoldEveryCandidateOnce() {
        let lengths = [3, 40, 4, 12, 3, 11, 60, 5, 13, 2]
        let groups = SummarizerTransformer.lengthGroups(lengths)
        #expect(groups.flatMap { $0 }.sorted() == Array(lengths.indices))
        for group in groups {
            let longest = group.map { lengths[$0] }.max()!, tokens = group.reduce(0) { $0 + lengths[$1] }
            #expect(Double(group.count * longest) <= 1.25 * Double(tokens), "group \(group.map { lengths[$0] }) pads too much")
        }
        #expect(groups.count > 1 && groups.count < lengths.count)
        #expect(SummarizerTransformer.lengthGroups([]).isEmpty)
    }

    /// Candidates of very different lengths, scored together (in several groups), get the
    /// likelihood each gets scored alone (one candidate: no padding at all).
    @Test func candidatesScoredInGroupsScoreAsEachAlone() {
        let model = Self.summarizer.model, vocabulary = Self.summarizer.vocabulary
        let source = vocabulary.encode(Self.pairs[0].findings)
        let words = Self.pairs.flatMap { vocabulary.encode($0.impression) }
        let candidates = [1, 2, 9, 3, 24, 10, 2].enumerated().map { index, length in (0..<length).map { words[(index * 5 + $0) % words.count] } }
        #expect(SummarizerTransformer.lengthGroups(candidates.map { $0.count + 1 }).count > 1)
        let together = model.logLikelihoods(of: candidates, source: source)
        for (candidate, likelihood) in zip(candidates, together) {
            let alone = model.logLikelihoods(of: [candidate], source: source)[0]
            #expect(abs(likelihood - alone) <= 1e-5 * max(1, abs(alone)), "together \(likelihood), alone \(alone)")
        }
    }

    /// Findings repeated within a call are decoded once, findings read before are not decoded
    /// again, and either way each gets what a summarizer with nothing memoised writes.
    @Test func repeatedFindingsGetTheImpressionDecodingAgainWould() {
        let summarizer = Self.summarizer.withEmptyMemo()
        let findings = Self.pairs.map(\.findings)
        let repeated = findings + findings.reversed() + ["", findings[0]]
        let first = summarizer.summarize(repeated)
        #expect(summarizer.memo.decoded.count == Set(findings).count, "each distinct findings text decoded once")
        #expect(first == Self.summarizer.withEmptyMemo().summarize(repeated))
        #expect(first[repeated.count - 2] == nil)
        #expect(summarizer.summarize(findings) == Array(first.prefix(findings.count)))
        #expect(summarizer.memo.decoded.count == Set(findings).count, "nothing decoded the second time")
        // Another decoding is memoised apart.
        #expect(summarizer.summarize(findings, decoding: .beam(width: 2)) == Self.summarizer.withEmptyMemo().summarize(findings, decoding: .beam(width: 2)))
        #expect(summarizer.memo.decoded.count == 2 * Set(findings).count)
    }

    /// With a memory, a report whose findings were read before (another study) gets the
    /// candidates and features a summarizer with nothing memoised computes.
    @Test func memoisedCandidatesHaveTheFeaturesOfFreshOnes() {
        let memory = ReportMemory(BaselineTests.training)
        let findings = Self.pairs.map(\.findings)
        let ids = findings.indices.map { Optional("study-\($0)") }
        let summarizer = Self.summarizer.withEmptyMemo()
        _ = summarizer.candidates(findings, excluding: ids, memory: memory, neighbours: 5, decoding: .greedy)
        #expect(summarizer.memo.likelihoods.count == Set(findings).count)
        let again = summarizer.candidates(findings, excluding: ids, memory: memory, neighbours: 5, decoding: .greedy)
        let fresh = Self.summarizer.withEmptyMemo().candidates(findings, excluding: ids, memory: memory, neighbours: 5, decoding: .greedy)
        #expect(again.map { $0.map(\.text) } == fresh.map { $0.map(\.text) })
        for (memoised, computed) in zip(again.joined(), fresh.joined()) {
            #expect(abs(memoised.features.meanLogLikelihood - computed.features.meanLogLikelihood) < 1e-5)
            var withoutLikelihood = memoised.features
            withoutLikelihood.meanLogLikelihood = computed.features.meanLogLikelihood
            #expect(withoutLikelihood == computed.features)
        }
    }

    /// Scoring only the likelihoods that could win chooses what scoring them all chooses, for
    /// weights that lean on the likelihood, ignore it, or count against it, and scores fewer.
    @Test func scoringOnlyWhatCouldWinChoosesWhatScoringAllChooses() {
        let memory = ReportMemory(BaselineTests.training)
        let findings = Self.pairs.map(\.findings) + BaselineTests.training.map(\.findings)
        let ids = findings.indices.map { Optional("study-\($0)") }
        let all = Self.summarizer.withEmptyMemo().candidates(findings, excluding: ids, memory: memory, neighbours: 6, decoding: .greedy)
        func weights(_ likelihood: Double, similarity: Double, agreement: Double) -> CandidateFeatures {
            var weights = CandidateFeatures()
            (weights.meanLogLikelihood, weights.nearestSimilarity, weights.clinicalAgreement, weights.consensus) = (likelihood, similarity, agreement, 1)
            return weights
        }
        var scoredFewer = false
        for reranker in [SummaryReranker(neighbours: 6, weights: weights(1, similarity: 2, agreement: 8)),
                         SummaryReranker(neighbours: 6, weights: weights(0, similarity: 2, agreement: 8)),
                         SummaryReranker(neighbours: 6, weights: weights(-1, similarity: 2, agreement: 8)),
                         SummaryReranker.likelihoodOnly(neighbours: 6)] {
            let summarizer = Self.summarizer.withEmptyMemo()
            let chosen = summarizer.summarize(findings, decoding: .greedy, memory: memory, reranker: reranker, excluding: ids)
            #expect(chosen == all.map { candidates in reranker.choose(candidates.map(\.features)).map { candidates[$0].text } }, "\(reranker.weights)")
            let scored = findings.map { summarizer.memo.likelihoods[Summarizer.source($0, vocabulary: Self.summarizer.vocabulary, settings: Self.summarizer.settings)]?.count ?? 0 }
            if reranker.weights.meanLogLikelihood > 0, zip(scored, all).contains(where: { $0 < Set($1.map(\.text)).count }) { scoredFewer = true }
        }
        #expect(scoredFewer, "some candidate could not win and was not scored")
    }

    @Test func aMemoKeepsWhatWasUsedLatelyAndStaysBounded() {
        let memo = ContentMemo<Int, String>(capacity: 2)
        memo.store("a", for: 1)
        memo.store("b", for: 2)
        memo.store("c", for: 3)  // the newer generation was full: 1 and 2 become the older
        #expect(memo[1] == "a")  // used: back in the newer generation, beside 3
        memo.store("d", for: 4)  // full again: 3 and 1 become the older, 2 is forgotten
        #expect(memo[2] == nil && memo[3] == "c" && memo[1] == "a" && memo[4] == "d")
        #expect(memo.count <= 4)
        memo.store("A", for: 1)
        #expect(memo[1] == "A")
    }
}
