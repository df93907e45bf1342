import Foundation
import Models
import Reports

/// The summarizer measured by k-fold cross-validation over every report with both sections:
/// fold f's model was trained on the other folds (`train summarizer --fold f`), its memory is
/// the other folds' reports, and the reranker that chooses for fold f is fitted on the other
/// folds' candidates alone — no choice is made on the fold it is measured on.
public enum SummarizerCrossValidation {
    /// ROUGE F1 of one system on one fold, or their mean and spread over the folds.
    public struct Figures: Codable, Sendable {
        public var rouge1: Double, rouge2: Double, rougeL: Double

        init(_ scores: Rouge.Scores) { (rouge1, rouge2, rougeL) = (scores.rouge1, scores.rouge2, scores.rougeL) }
    }

    public struct Spread: Codable, Sendable {
        public var mean: Figures, standardDeviation: Figures
    }

    public struct Fold: Codable, Sendable {
        public var fold: Int
        public var reports: Int
        public var memory: Int
        public var summarizer: String
        /// ROUGE by system: "mostFrequentImpression", "nearestFindingsTFIDF", "greedy", "beamN",
        /// "likelihoodReranked", "reranked" and "oracle" (the best candidate, an upper bound).
        public var systems: [String: Figures]
        /// The reranker fitted on the other folds that chose "reranked" here.
        public var reranker: SummaryReranker
    }

    public struct Result: Codable, Sendable {
        public var folds: [Fold]
        public var summary: [String: Spread]
        /// Folds in which the reranked summarizer beats retrieval (the better of the two TF-IDF
        /// nearest-findings baselines, in that fold).
        public var foldsAboveRetrieval: Int
        /// The reranker fitted on every fold's candidates: the one to ship.
        public var reranker: SummaryReranker
    }

    /// One fold's held-out reports with their candidates.
    struct Measured {
        let pairs: [FindingsImpressionPair]
        let candidates: [[Summarizer.Candidate]]
        var examples: [SummaryReranker.Example] {
            zip(pairs, candidates).compactMap { pair, candidates in
                candidates.isEmpty ? nil : .init(features: candidates.map(\.features),
                                                 rougeL: candidates.map { Rouge.scores(reference: pair.impression, prediction: $0.text).rougeL })
            }
        }
    }

    /// Measures `measuring` (default: every fold); each fold's reranker is fitted on the other measured folds.
    /// The summarizer's own candidate is its beam search's output (`beamWidth` ≥ 1) or its greedy
    /// output (`beamWidth` 0, the faster; its beam row is then measured apart).
    public static func run(_ pairs: [FindingsImpressionPair], folds: ReportFolds, measuring: [Int]? = nil, neighbours: Int, beamWidth: Int,
                           summarizer: (Int) throws -> Summarizer, progress: (String) -> Void = { _ in },
                           candidates seen: (Int, FindingsImpressionPair, [Summarizer.Candidate]) throws -> Void = { _, _, _ in }) throws -> Result {
        var measured: [Measured] = [], partial: [Fold] = []
        for fold in measuring ?? Array(0..<folds.count) {
            let (training, heldOut) = folds.split(pairs, id: \.reportID, holdingOut: fold)
            let model = try summarizer(fold)
            let memory = ReportMemory(training)
            var systems = SummarizerEvaluation.baselines(training: training, test: heldOut).mapValues(Figures.init)
            let own: Summarizer.Decoding = beamWidth > 0 ? .beam(width: beamWidth) : .greedy
            let candidates = model.candidates(heldOut.map(\.findings), excluding: heldOut.map(\.reportID), memory: memory,
                                              neighbours: neighbours, decoding: own)
            systems[beamWidth > 0 ? "beam\(beamWidth)" : "greedy"] = score(heldOut, candidates) { _ in 0 }
            if beamWidth > 0 {
                systems["greedy"] = Figures(SummarizerEvaluation.rouge(of: model, on: heldOut, decoding: .greedy))
            } else {
                systems["beam4"] = Figures(SummarizerEvaluation.rouge(of: model, on: heldOut, decoding: .beam(width: 4)))
            }
            systems["likelihoodReranked"] = score(heldOut, candidates) { SummaryReranker.likelihoodOnly(neighbours: neighbours).choose($0.map(\.features))! }
            for (pair, found) in zip(heldOut, candidates) { try seen(fold, pair, found) }
            measured.append(Measured(pairs: heldOut, candidates: candidates))
            systems["oracle"] = oracle(measured.last!)
            partial.append(Fold(fold: fold, reports: heldOut.count, memory: memory.entries.count, summarizer: model.version,
                                systems: systems, reranker: .likelihoodOnly(neighbours: neighbours)))
            progress(String(format: "fold %d: %d reports, memory %d; ROUGE-L TF-IDF %.4f, %@ %.4f, likelihood-reranked %.4f",
                            fold, heldOut.count, memory.entries.count, systems["nearestFindingsTFIDF"]!.rougeL, "\(own)",
                            systems[beamWidth > 0 ? "beam\(beamWidth)" : "greedy"]!.rougeL, systems["likelihoodReranked"]!.rougeL))
        }
        for index in partial.indices {
            let others = measured.indices.filter { $0 != index }.flatMap { measured[$0].examples }
            let reranker = SummaryReranker.fit(others, neighbours: neighbours)
            partial[index].reranker = reranker
            partial[index].systems["reranked"] = score(measured[index].pairs, measured[index].candidates) { reranker.choose($0.map(\.features))! }
            progress(String(format: "fold %d: reranked ROUGE-L %.4f (fitted on the other folds), oracle %.4f",
                            partial[index].fold, partial[index].systems["reranked"]!.rougeL, partial[index].systems["oracle"]!.rougeL))
        }
        let names = Set(partial.flatMap(\.systems.keys))
        let summary = Dictionary(uniqueKeysWithValues: names.map { name in (name, spread(partial.compactMap { $0.systems[name] })) })
        return Result(folds: partial, summary: summary,
                      foldsAboveRetrieval: partial.filter { fold in
                          fold.systems["reranked"]!.rougeL > max(fold.systems["nearestFindingsTFIDF"]!.rougeL, fold.systems["nearestFindingsTFIDFWordPairs"]!.rougeL)
                      }.count,
                      reranker: SummaryReranker.fit(measured.flatMap(\.examples), neighbours: neighbours))
    }

    /// Mean ROUGE of the candidate `choose` picks for each report (an empty one for a report without candidates).
    static func score(_ pairs: [FindingsImpressionPair], _ candidates: [[Summarizer.Candidate]], choose: ([Summarizer.Candidate]) -> Int) -> Figures {
        Figures(Rouge.mean(zip(pairs, candidates).map { pair, candidates in
            Rouge.scores(reference: pair.impression, prediction: candidates.isEmpty ? "" : candidates[choose(candidates)].text)
        }))
    }

    /// The best candidate of each report by its ROUGE-L against the reference: what a perfect reranker would reach.
    static func oracle(_ measured: Measured) -> Figures {
        Figures(Rouge.mean(zip(measured.pairs, measured.candidates).map { pair, candidates in
            candidates.map { Rouge.scores(reference: pair.impression, prediction: $0.text) }.max { $0.rougeL < $1.rougeL }
                ?? Rouge.scores(reference: pair.impression, prediction: "")
        }))
    }

    static func spread(_ figures: [Figures]) -> Spread {
        let (r1, r2, rL) = (FoldSpread(figures.map(\.rouge1)), FoldSpread(figures.map(\.rouge2)), FoldSpread(figures.map(\.rougeL)))
        return Spread(mean: Figures(rouge1: r1.mean, rouge2: r2.mean, rougeL: rL.mean),
                      standardDeviation: Figures(rouge1: r1.standardDeviation, rouge2: r2.standardDeviation, rougeL: rL.standardDeviation))
    }
}

extension SummarizerCrossValidation.Figures {
    init(rouge1: Double, rouge2: Double, rougeL: Double) { (self.rouge1, self.rouge2, self.rougeL) = (rouge1, rouge2, rougeL) }
}
