import Reports
import Testing
@testable import Summarization

@Suite("Summarizer baselines and split")
struct BaselineTests {
    static let training = [
        FindingsImpressionPair(reportID: "1", findings: "The lungs are clear. Heart size normal.", impression: "No acute disease."),
        FindingsImpressionPair(reportID: "2", findings: "Lungs clear, normal heart.", impression: "No acute disease"),
        FindingsImpressionPair(reportID: "3", findings: "Large right pleural effusion with atelectasis.", impression: "Right pleural effusion."),
        FindingsImpressionPair(reportID: "4", findings: "Left lower lobe consolidation.", impression: "Left lower lobe pneumonia."),
    ]

    @Test func theMostFrequentImpressionCountsTextsByTheirTokens() {
        #expect(["No acute disease.", "No acute disease"].contains(SummaryBaselines.mostFrequentImpression(Self.training)))
    }

    @Test func retrievalTakesTheImpressionOfTheNearestFindings() {
        let nearest = SummaryBaselines.NearestFindings(Self.training)
        #expect(nearest.impression(for: "Small right pleural effusion.") == "Right pleural effusion.")
        #expect(nearest.impression(for: "Consolidation in the left lower lobe.") == "Left lower lobe pneumonia.")
    }

    @Test func theTestSplitIsTheIdsDivisibleByFive() {
        #expect(ReportSplit.isTest("1000") && ReportSplit.isTest("5") && !ReportSplit.isTest("1001") && !ReportSplit.isTest("x"))
    }
}
