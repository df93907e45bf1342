import Foundation
import Reports
import TensorEngine

/// Summarizing with a memory of earlier reports: the candidates are the summarizer's own
/// impression and the impressions of the nearest earlier reports by the findings; the reranker
/// chooses among them. Only the FINDINGS are read, as without a memory, and a report is never
/// its own neighbour (`excluding` names it).
extension Summarizer {
    public struct Candidate: Sendable, Equatable {
        public let text: String
        public let features: CandidateFeatures
    }

    /// Every candidate of each FINDINGS text (none for one without a word to read), the model's
    /// own first, with every feature.
    public func candidates(_ findings: [String], excluding ids: [String?], memory: ReportMemory, neighbours: Int,
                           decoding: Decoding) -> [[Candidate]] {
        candidates(findings, excluding: ids, memory: memory, neighbours: neighbours, decoding: decoding, choosingWith: nil)
    }

    /// The candidates; with `reranker`, only the likelihoods that could change its choice are
    /// scored (the others' are −∞), which leaves the choice as it would be with all of them.
    private func candidates(_ findings: [String], excluding ids: [String?], memory: ReportMemory, neighbours: Int,
                            decoding: Decoding, choosingWith reranker: SummaryReranker?) -> [[Candidate]] {
        precondition(ids.count == findings.count, "an id (or nil) for each report")
        let (generated, sources, encodings) = summarizeKeepingEncodings(findings, decoding: decoding)
        let vocabulary = vocabulary, settings = settings
        return concurrentMap(findings.count) { index -> [Candidate] in
            guard let own = generated[index] else { return [] }
            let source = sources[index]
            let nearest = memory.nearest(findings[index], count: neighbours, excluding: ids[index])
            // Distinct conclusions, by ROUGE's tokens: the model's own, then the neighbours' in
            // order of similarity; a neighbour saying what the model said lends it its wording.
            var texts = [own], keys = [Rouge.tokens(own)]
            var features = [CandidateFeatures()]
            features[0].fromModel = 1
            let neighbourTokens = nearest.map(\.impressionTokens)
            let totalSimilarity = nearest.reduce(0) { $0 + $1.similarity }
            for (neighbour, tokens) in zip(nearest, neighbourTokens) {
                if let existing = keys.firstIndex(of: tokens) {
                    if features[existing].nearestSimilarity == 0 { texts[existing] = neighbour.entry.impression }
                    features[existing].nearestSimilarity = max(features[existing].nearestSimilarity, neighbour.similarity)
                } else {
                    texts.append(neighbour.entry.impression)
                    keys.append(tokens)
                    var added = CandidateFeatures()
                    added.nearestSimilarity = neighbour.similarity
                    features.append(added)
                }
            }
            let seen = statedObservations(in: findings[index])
            let ids = Rouge.ids(keys + neighbourTokens)
            let (keyIDs, neighbourIDs) = (ids.prefix(keys.count), ids.dropFirst(keys.count))
            for index in features.indices {
                let concluded = memory.statedInConclusion[keys[index]] ?? statedObservations(in: texts[index])
                features[index].clinicalAgreement = Double(Observation.allCases.filter { seen.contains($0) == concluded.contains($0) }.count)
                    / Double(Observation.allCases.count)
                features[index].memoryFrequency = memory.frequency(ofConclusion: keys[index])
                features[index].length = Double(keys[index].count) / 20
                guard totalSimilarity > 0 else { continue }
                var vote = 0.0, consensus = 0.0
                for (neighbour, tokens) in zip(nearest, neighbourIDs) {
                    if tokens == keyIDs[index] { vote += neighbour.similarity }
                    consensus += neighbour.similarity * Rouge.lcsF1(tokens, keyIDs[index])
                }
                features[index].neighbourVote = vote / totalSimilarity
                features[index].consensus = consensus / totalSimilarity
            }
            let candidates = texts.map { text in
                memo.encodedCandidates[text] ?? {
                    let ids = Array(vocabulary.encode(text).prefix(settings.maximumOutputLength))
                    memo.encodedCandidates.store(ids, for: text)
                    return ids
                }()
            }
            // Per token (its words and `<eos>`), as the reranker was fitted.
            let likelihoods = SourceLikelihoods(self, source: source, encoded: encodings[source])
            func meanLogLikelihoods(_ chosen: [Int]) -> [Double] {
                zip(chosen, likelihoods.of(chosen.map { candidates[$0] })).map { position, likelihood in
                    Double(likelihood) / Double(candidates[position].count + 1)
                }
            }
            if let reranker {
                reranker.scoreLikelihoodsThatCouldWin(&features, meanLogLikelihoods: meanLogLikelihoods)
            } else {
                for (position, likelihood) in zip(candidates.indices, meanLogLikelihoods(Array(candidates.indices))) {
                    features[position].meanLogLikelihood = likelihood
                }
            }
            return zip(texts, features).map { Candidate(text: $0, features: $1) }
        }
    }

    /// What the labeler reads as stated (positive or uncertain) in a text, memoised: findings and
    /// impressions repeat word for word. The candidates' clinical agreement reads it, and so may
    /// whoever compares impressions beside the summarizer (the daemon's stage).
    public func statedObservations(in text: String) -> Set<Observation> {
        if let known = memo.stated[text] { return known }
        let stated = memo.labeler.statedObservations(in: text)
        memo.stated.store(stated, for: text)
        return stated
    }

    /// The model's log-likelihoods of candidates given one source, as a report's candidates ask
    /// for them: those scored against the same source before (the same findings, another report)
    /// are not scored again, and the source is encoded once for the rest.
    final class SourceLikelihoods {
        private let model: SummarizerTransformer, memo: SummaryMemo, source: [Int]
        private var known: [[Int]: Float]
        private var scorer: SummarizerTransformer.CandidateScorer?

        private let encoded: [Float]?

        init(_ summarizer: Summarizer, source: [Int], encoded: [Float]?) {
            (model, memo, self.source, self.encoded) = (summarizer.model, summarizer.memo, source, encoded)
            known = memo.likelihoods[source] ?? [:]
        }

        func of(_ candidates: [[Int]]) -> [Float] {
            var missing: [[Int]] = []
            for candidate in candidates where known[candidate] == nil && !missing.contains(candidate) { missing.append(candidate) }
            if !missing.isEmpty {
                let scorer = scorer ?? SummarizerTransformer.CandidateScorer(model: model, source: source, encoded: encoded)
                self.scorer = scorer
                for (candidate, likelihood) in zip(missing, scorer.logLikelihoods(of: missing)) { known[candidate] = likelihood }
                memo.likelihoods.store(known, for: source)
            }
            return candidates.map { known[$0]! }
        }
    }

    /// The impression of each FINDINGS text chosen by `reranker` among the candidates (nil for one
    /// without a word to read).
    public func summarize(_ findings: [String], decoding: Decoding, memory: ReportMemory, reranker: SummaryReranker,
                          excluding ids: [String?]) -> [String?] {
        candidates(findings, excluding: ids, memory: memory, neighbours: reranker.neighbours, decoding: decoding, choosingWith: reranker).map { candidates in
            reranker.choose(candidates.map(\.features)).map { candidates[$0].text }
        }
    }
}
