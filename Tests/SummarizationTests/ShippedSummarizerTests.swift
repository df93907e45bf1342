import Foundation
import Reports
import TestSupport
import Testing
@testable import Summarization

/// The shipped summarizer still gives the test figures its manifest records: the weights, the
/// vocabulary, the decoding and ROUGE have not drifted apart.
@Suite("Shipped summarizer")
struct ShippedSummarizerTests {
    static let folder = TestData.packageRoot.appending(path: "models/summarizer")

    @Test func reproducesItsManifest() throws {
        let manifest = try SummarizerManifest.read(from: Self.folder)
        let summarizer = try Summarizer(contentsOf: Self.folder)
        #expect(summarizer.version == manifest.version && summarizer.vocabulary.count == manifest.vocabularySize)
        #expect(summarizer.model.parameterCount == manifest.parameters)
        let (training, test) = try ReportSplit.pairs(in: TestData.packageRoot.appending(path: manifest.data.source))
        #expect(test.count == manifest.data.testReports)
        // Trained on the other reports (those of the validation ids apart, when it chose its epoch on them).
        #expect(training.count == manifest.data.trainingReports + manifest.data.validationReports)
        let greedy = SummarizerEvaluation.rouge(of: summarizer, on: test, decoding: .greedy)
        let recorded = try #require(manifest.test["greedy"])
        #expect(abs(greedy.rougeL - recorded.rougeL) < 1e-6 && abs(greedy.rouge1 - recorded.rouge1) < 1e-6
                && abs(greedy.rouge2 - recorded.rouge2) < 1e-6, "measured \(greedy), recorded \(recorded)")
        // The baselines it is set beside are those of the same split.
        let baselines = SummarizerEvaluation.baselines(training: training, test: test)
        #expect(abs(baselines["nearestFindingsTFIDF"]!.rougeL - manifest.baselines["nearestFindingsTFIDF"]!.rougeL) < 1e-9)
        #expect(manifest.commit.count >= 7 && !manifest.command.isEmpty && manifest.trainingSeconds > 0)
    }

    /// The reranker that ships is the one the cross-validation fitted on every fold, and fold 0
    /// — the test split, summarized by the shipped model with the other folds as its memory and
    /// the reranker fitted without it — gives the figure the manifest records.
    @Test func itsRerankerReproducesTheCrossValidationOnTheTestFold() throws {
        let manifest = try SummarizerManifest.read(from: Self.folder)
        let record = try #require(manifest.reranker, "the shipped summarizer records how its reranker was fitted")
        let summarizer = try Summarizer(contentsOf: Self.folder)
        #expect(summarizer.reranker == record.crossValidation.reranker)
        let fold = try #require(record.crossValidation.folds.first { $0.fold == 0 })
        #expect(fold.summarizer == summarizer.version, "fold 0's model is the shipped one")
        let pairs = try ReportSplit.allPairs(in: TestData.packageRoot.appending(path: manifest.data.source))
        let (training, test) = ReportFolds(count: record.crossValidation.folds.count).split(pairs, id: \.reportID, holdingOut: 0)
        #expect(test.allSatisfy { ReportSplit.isTest($0.reportID) } && test.count == manifest.data.testReports)
        let chosen = summarizer.summarize(test.map(\.findings), decoding: .greedy, memory: ReportMemory(training), reranker: fold.reranker,
                                          excluding: test.map(\.reportID))
        let scores = Rouge.mean(zip(test, chosen).map { Rouge.scores(reference: $0.impression, prediction: $1 ?? "") })
        let recorded = try #require(fold.systems["reranked"])
        #expect(abs(scores.rougeL - recorded.rougeL) < 1e-6, "measured \(scores.rougeL), recorded \(recorded.rougeL)")
        #expect(record.crossValidation.foldsAboveRetrieval == record.crossValidation.folds.count, "above retrieval in every fold")
        // Every setting says what chose it, and none names the test split.
        let choices = try #require(manifest.choices)
        #expect(Set(choices.keys).isSuperset(of: ["epoch", "rerankerWeights", "neighbours", "beamWidth", "memoryTerms"]))
        #expect(choices.values.allSatisfy { !$0.lowercased().contains("test split") })
    }
}
