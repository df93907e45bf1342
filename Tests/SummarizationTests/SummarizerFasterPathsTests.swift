import Foundation
import Reports
import TensorEngine
import Testing
@testable import Summarization

/// Each faster path of the summarizer gives what the plain one gives: the decoder plan what the
/// graph computes, candidates scored together as each alone, what the memo returns as what
/// decoding or scoring again would, and scoring only what could win the choice of scoring all.
@Suite("Summarizer's faster paths")
struct SummarizerFasterPathsTests {
    static let pairs = SummarizerModelTests.pairs

    static let summarizer: Summarizer = {
        var options = SummarizerModelTests.tinyOptions
        options.epochs = 2
        return try! SummarizerTrainer(options: options).train(training: pairs)
    }()

    /// The plan's next-token distributions are the graph's (`step` with a `DecoderCache`), for
    /// a batch of sources of different lengths (padding in the memory), step after step, and as
    /// rows leave; without a copy head too (another encoder's memory).
    @Test func thePlansStepsAreTheGraphs() {
        let model = Self.summarizer.model, vocabulary = Self.summarizer.vocabulary
        let sources = SummarizerTransformer.padded(Self.pairs.prefix(4).map { vocabulary.encode($0.findings) } + [vocabulary.encode("Heart normal.")])
        let fed = (0..<6).map { t in sources.indices.map { t == 0 ? ReportVocabulary.beginning : (t * 7 + $0 * 3) % vocabulary.count } }
        for copies in [true, false] {
            let encoded = model.encode(sources)
            let memory = copies ? encoded : SummarizerTransformer.Memory(encoded: encoded.states, batch: encoded.batch, length: encoded.length)
            let plan = DecoderPlan(model: model, weights: model.inferenceWeights, memory: memory, sourceOfRow: Array(sources.indices))
            var cache = DecoderCache(model: model, memory: memory), going = Array(sources.indices)
            for (t, tokens) in fed.enumerated() {
                let graph = model.step(going.map { tokens[$0] }, cache: &cache)
                let planned = plan.step(going.map { tokens[$0] }, going: going, positions: [Int](repeating: t, count: going.count))
                for (i, distribution) in graph.enumerated() {
                    let worst = distribution.indices.map { abs(distribution[$0] - planned[i * vocabulary.count + $0]) }.max()!
                    #expect(worst < 1e-5, "step \(t), row \(going[i]), copies \(copies): differs by \(worst)")
                }
                if t == 2 {  // two rows leave
                    let kept = [0, 2, 3]
                    going = kept.map { going[$0] }
                    cache = cache.selecting(kept)
                }
            }
        }
    }

    /// Rows of the same tokens so far share the first layer, and every distribution is bit for bit
    /// what the plan computes without sharing: rows of three sources, two pairs of them fed the
    /// same tokens, several positions of a row in one step, a prefix shared by rows of different
    /// sources, a drafted position fed again with another token, and rows that part and meet.
    @Test(.enabled(if: ProcessorFeatures.avx512, "sharing is on where the plans' products are row by row"))
    func rowsOfTheSamePrefixShareTheFirstLayerBitForBit() {
        let model = Self.summarizer.model, vocabulary = Self.summarizer.vocabulary
        let sources = SummarizerTransformer.padded(Self.pairs.prefix(3).map { vocabulary.encode($0.findings) })
        let memory = model.encode(sources)
        let sourceOfRow = [0, 1, 2, 0, 1, 2]
        let (shared, plain) = (true, false)
        let plans = [shared, plain].map { sharing in
            DecoderPlan(model: model, weights: model.inferenceWeights, memory: memory, sourceOfRow: sourceOfRow, length: 8, capacity: 24,
                        sharingPrefixes: sharing)
        }
        let (b, w) = (ReportVocabulary.beginning, { (k: Int) in 5 + k % (vocabulary.count - 5) })
        // (tokens, rows, positions) of each step.
        let steps: [([Int], [Int], [Int])] = [
            ([b, w(1), w(2), b, w(1), w(2), b, w(1), b, w(3)], [0, 0, 0, 1, 1, 1, 2, 2, 3, 3], [0, 1, 2, 0, 1, 2, 0, 1, 0, 1]),
            ([w(4), w(4), w(5), b, w(1)], [0, 1, 2, 4, 4], [3, 3, 2, 0, 1]),
            ([w(6), w(7), w(2), w(4), b], [0, 1, 4, 4, 5], [2, 4, 2, 3, 0]),  // row 0's position 2 fed again
            ([w(4), w(4), w(4)], [0, 1, 3], [3, 5, 2]),
        ]
        for (index, (tokens, rows, positions)) in steps.enumerated() {
            let results = plans.map { Array($0.step(tokens, going: rows, positions: positions)) }
            #expect(results[0] == results[1], "step \(index)")
            #expect(results[0].count == tokens.count * vocabulary.count)
        }
        // Step one computes 4 of its 10 tokens (rows 1 and 2 follow row 0, row 3 starts as it
        // does), step two 4 of 5 (rows 0 and 1 meet again), the others all of theirs.
        #expect(plans[0].firstLayerTokens == 4 + 4 + 5 + 3 && plans[1].firstLayerTokens == 10 + 5 + 5 + 3)
    }

    /// The encoder's plan gives the graph's states at every real position of a padded batch.
    @Test func theEncodersPlanIsTheGraphs() throws {
        let summarizer = try Summarizer(contentsOf: ShippedSummarizerTests.folder)
        let sources = (SummarizerModelTests.pairs.map(\.findings) + ["Heart normal."]).map { summarizer.vocabulary.encode($0) }
        let graph = summarizer.model.encode(SummarizerTransformer.padded(sources)), planned = summarizer.model.encodeOnPlan(sources)
        #expect(planned.length == graph.length && planned.batch == graph.batch && planned.keyMask.data == graph.keyMask.data)
        let d = summarizer.model.configuration.width
        for (row, source) in sources.enumerated() {
            for position in 0..<source.count {
                let start = (row * graph.length + position) * d
                let worst = (start..<(start + d)).map { abs(graph.states.data[$0] - planned.states.data[$0]) }.max()!
                #expect(worst < 1e-5, "row \(row), position \(position): differs by \(worst)")
            }
        }
    }

    /// A source's states taken from a batch the encoder's plan encoded (as greedy's slices are)
    /// score candidates exactly as the source encoded alone: each source is encoded on its own.
    @Test func statesFromABatchScoreAsTheSourceAlone() throws {
        let summarizer = try Summarizer(contentsOf: ShippedSummarizerTests.folder)
        let sources = SummarizerModelTests.pairs.map { summarizer.vocabulary.encode($0.findings) }
        let batch = summarizer.model.encodeOnPlan(sources), d = summarizer.model.configuration.width
        let candidates = SummarizerModelTests.pairs.map { summarizer.vocabulary.encode($0.impression) }
        for (row, source) in sources.enumerated() {
            let states = Array(batch.states.data[(row * batch.length * d)..<((row * batch.length + source.count) * d)])
            let fromBatch = SummarizerTransformer.CandidateScorer(model: summarizer.model, source: source, encoded: states)
            let alone = SummarizerTransformer.CandidateScorer(model: summarizer.model, source: source)
            #expect(fromBatch.logLikelihoods(of: candidates) == alone.logLikelihoods(of: candidates))
        }
    }

    /// Greedy decoding on the plans (encoder and decoder) writes, token for token, what greedy
    /// decoding step by step on the graph writes.
    @Test func greedyOnThePlanWritesWhatTheGraphWrites() throws {
        let summarizer = try Summarizer(contentsOf: ShippedSummarizerTests.folder)
        let findings = SummarizerModelTests.pairs.map(\.findings) + BaselineTests.training.map(\.findings)
        let sources = findings.map { Summarizer.source($0, vocabulary: summarizer.vocabulary, settings: summarizer.settings) }
        let model = summarizer.model, maximumLength = summarizer.settings.maximumOutputLength
        let planned = model.greedy(sources, maximumLength: maximumLength)
        for (source, output) in zip(sources, planned) {
            var cache = DecoderCache(model: model, memory: model.encode([source])), tokens: [Int] = []
            var next = ReportVocabulary.beginning
            while tokens.count < maximumLength {
                let distribution = model.step([next], cache: &cache)[0]
                next = distribution.indices.max { distribution[$0] < distribution[$1] }!
                if next == ReportVocabulary.end { break }
                tokens.append(next)
            }
            #expect(output == tokens, "\(summarizer.vocabulary.decode(output)) against \(summarizer.vocabulary.decode(tokens))")
        }
    }

    /// Candidates of very different lengths, scored together (rows leaving as they end), get the
    /// likelihood each gets scored alone.
    @Test func candidatesScoredTogetherScoreAsEachAlone() {
        let model = Self.summarizer.model, vocabulary = Self.summarizer.vocabulary
        let source = vocabulary.encode(Self.pairs[0].findings)
        let words = Self.pairs.flatMap { vocabulary.encode($0.impression) }
        let candidates = [1, 2, 9, 3, 24, 10, 2].enumerated().map { index, length in (0..<length).map { words[(index * 5 + $0) % words.count] } }
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

    /// Beam search on the plan (rows rearranged as hypotheses are kept) writes what beam search
    /// with a `DecoderCache` on the graph writes.
    @Test func beamSearchOnThePlanWritesWhatTheGraphWrites() throws {
        let summarizer = try Summarizer(contentsOf: ShippedSummarizerTests.folder)
        let findings = SummarizerModelTests.pairs.map(\.findings) + BaselineTests.training.map(\.findings)
        for source in findings.map({ Summarizer.source($0, vocabulary: summarizer.vocabulary, settings: summarizer.settings) }) {
            let memory = summarizer.model.encodeOnPlan([source])
            #expect(summarizer.model.beam(memory: memory, width: 4, maximumLength: 60)
                    == summarizer.model.beamOnTheGraph(memory: memory, width: 4, maximumLength: 60))
        }
    }
}
