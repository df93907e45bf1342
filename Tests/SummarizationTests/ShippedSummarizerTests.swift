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
        #expect(training.filter { !ReportSplit.isValidation($0.reportID) }.count == manifest.data.trainingReports)
        let greedy = SummarizerEvaluation.rouge(of: summarizer, on: test, decoding: .greedy)
        let recorded = try #require(manifest.test["greedy"])
        #expect(abs(greedy.rougeL - recorded.rougeL) < 1e-6 && abs(greedy.rouge1 - recorded.rouge1) < 1e-6
                && abs(greedy.rouge2 - recorded.rouge2) < 1e-6, "measured \(greedy), recorded \(recorded)")
        // The baselines it is set beside are those of the same split.
        let baselines = SummarizerEvaluation.baselines(training: training, test: test)
        #expect(abs(baselines["nearestFindingsTFIDF"]!.rougeL - manifest.baselines["nearestFindingsTFIDF"]!.rougeL) < 1e-9)
        #expect(manifest.commit.count >= 7 && !manifest.command.isEmpty && manifest.trainingSeconds > 0)
    }
}
