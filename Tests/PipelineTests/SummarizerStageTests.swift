import Events
import Foundation
import Kafka
import Reports
@testable import Summarization
import TestSupport
import Testing
@testable import Pipeline

@Suite("The summarizer stage, with the shipped model")
struct SummarizerStageTests {
    static let models = TestData.packageRoot.appending(path: "models")

    static func message(_ body: String, offset: Int64) -> KafkaMessage {
        let event = Event.report(ReportEvent(eventID: "e\(offset)", studyID: "s\(offset)", reportID: "r\(offset)", format: .text, body: body))
        return KafkaMessage(topic: "t", partition: 0, offset: offset, key: nil, value: event.encoded())
    }

    /// The daemon's processor with the shipped models, images off, the summarizer greedy.
    static func reportProcessor() throws -> EventProcessor {
        var configuration = RadStreamConfiguration.standard
        configuration.models.directory = models.path
        configuration.models.classifyImages = false
        configuration.models.summaryDecoding = .greedy
        return try EventProcessor(configuration: configuration)
    }

    /// Each report of a batch gets what the summarizer writes for its FINDINGS alone, with the
    /// model's version; its own IMPRESSION changes nothing of it, and is compared with it.
    @Test func everyReportWithFindingsGetsItsGeneratedImpression() throws {
        let processor = try Self.reportProcessor()
        let summarizer = try Summarizer(contentsOf: Self.models.appending(path: "summarizer"))
        let effusion = "There is a large right pleural effusion with adjacent atelectasis. The heart is normal in size."
        let clear = "The lungs are clear. Heart size is normal. No pneumothorax or pleural effusion."
        let processed = processor.process([
            Self.message("FINDINGS: \(effusion)\nIMPRESSION: Large right pleural effusion.", offset: 0),
            Self.message("FINDINGS: \(effusion)\nIMPRESSION: No acute disease.", offset: 1),
            Self.message("FINDINGS: \(clear)", offset: 2),
            Self.message("IMPRESSION: Normal chest.", offset: 3),
        ])
        let records = processed.map { event -> ReportRecord? in if case .report(let record) = event.payload { record } else { nil } }
        let expected = summarizer.summarize([effusion, clear])
        #expect(records[0]?.generatedImpression == expected[0] && records[1]?.generatedImpression == expected[0])
        #expect(records[2]?.generatedImpression == expected[1])
        #expect(records[0..<3].allSatisfy { $0?.summarizerVersion == summarizer.version })
        // No FINDINGS: nothing to summarize.
        #expect(records[3]?.generatedImpression == nil && records[3]?.summarizerVersion == nil)
        // The disagreements come from comparing with the radiologist's impression, where there is one.
        #expect(records[0]?.impressionDisagreements != nil && records[2]?.impressionDisagreements == nil)
        let stage = SummarizerStage(summarizer: summarizer, decoding: .greedy)
        #expect(records[1]?.impressionDisagreements == stage.disagreements("No acute disease.", expected[0]!))
    }

    /// With a memory, each report's impression is the reranker's choice among the model's own and
    /// the earlier reports' — never its own study's, which the memory may hold too.
    @Test func withAMemoryTheRerankerChoosesAndAStudyIsNotItsOwnNeighbour() throws {
        let summarizer = try Summarizer(contentsOf: Self.models.appending(path: "summarizer"))
        let reranker = try #require(summarizer.reranker, "the shipped summarizer has a reranker")
        let effusion = "There is a large right pleural effusion with adjacent atelectasis. The heart is normal in size."
        let memory = ReportMemory([
            .init(id: "s0", findings: effusion, impression: "Own study: large right effusion."),
            .init(id: "earlier", findings: effusion, impression: "Large right pleural effusion with atelectasis."),
        ])
        let stage = SummarizerStage(summarizer: summarizer, decoding: .greedy, memory: ReportMemoryHolder(memory))
        var records = [ReportRecord(eventID: "e0", studyID: "s0", reportID: "r0", format: "text", sections: ReportSections(findings: effusion))]
        stage.run(&records)
        let expected = summarizer.summarize([effusion], decoding: .greedy, memory: memory, reranker: reranker, excluding: ["s0"])
        #expect(records[0].generatedImpression == expected[0])
        #expect(records[0].generatedImpression != "Own study: large right effusion.")
        // An empty memory (the daemon's before its first read of PostgreSQL) leaves the model alone.
        let alone = SummarizerStage(summarizer: summarizer, decoding: .greedy, memory: ReportMemoryHolder(ReportMemory([ReportMemory.Entry]())))
        alone.run(&records)
        #expect(records[0].generatedImpression == summarizer.summarize([effusion])[0])
    }

    @Test func disagreementsAreTheObservationsOneImpressionStatesAndTheOtherDoesNot() throws {
        let stage = SummarizerStage(summarizer: try Summarizer(contentsOf: Self.models.appending(path: "summarizer")), decoding: .greedy)
        #expect(stage.disagreements("Right lower lobe pneumonia.", "Right lower lobe pneumonia.").isEmpty)
        #expect(stage.disagreements("Possible right lower lobe pneumonia.", "Right lower lobe pneumonia.").isEmpty)
        #expect(stage.disagreements("No acute disease.", "Right lower lobe pneumonia.") == [.noFinding, .pneumonia])
        // Each impression is read once; read again, from the memo, it says the same.
        #expect(stage.summarizer.memo.stated.count == 3)
        #expect(stage.disagreements("Right lower lobe pneumonia.", "No acute disease.") == [.noFinding, .pneumonia])
        #expect(stage.summarizer.memo.stated.count == 3)
    }

    /// The labeler stage labels a report's findings, and the summarizer reads what its findings
    /// state: one labeler, one memo, so each sentence is read once.
    @Test func theLabelerStageAndTheSummarizerShareTheirReadingOfSentences() throws {
        let processor = try Self.reportProcessor()
        let labeler = try #require(processor.reportStages.compactMap { $0 as? LabelerStage }.first).labeler
        let summarizer = try #require(processor.reportBatchStages.compactMap { $0 as? SummarizerStage }.first).summarizer
        _ = processor.process([Self.message("FINDINGS: The lungs are clear. No pneumothorax.\nIMPRESSION: Normal chest.", offset: 0)])
        #expect(labeler.memoisedSentences >= 3)
        #expect(labeler.memoisedSentences == summarizer.labeler.memoisedSentences)
    }

    @Test func aMissingSummarizerStopsTheStartUnlessItIsTurnedOff() {
        var configuration = RadStreamConfiguration.standard
        configuration.models.directory = "/nonexistent/models"
        configuration.models.classifyImages = false
        let error = #expect(throws: ConfigurationError.self) { try EventProcessor(configuration: configuration) }
        #expect(error?.description.contains("summarizer") == true)
        configuration.models.summarizeReports = false
        configuration.models.captionImages = false
        configuration.counterfactuals.enabled = false
        #expect((try? EventProcessor(configuration: configuration))?.reportBatchStages.isEmpty == true)
    }
}
