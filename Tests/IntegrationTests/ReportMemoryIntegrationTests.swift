import Events
import Foundation
import Kafka
@testable import Pipeline
import Postgres
import Summarization
import Testing

/// The summarizer's memory in the stream is the reports already in PostgreSQL: what earlier
/// studies with the same findings concluded reaches a new study, and a study's own impression
/// never reaches it.
@Suite("Summarizer's memory in the stream", .serialized)
struct ReportMemoryIntegrationTests {
    static let normal = "The cardiomediastinal silhouette is within normal limits. The lungs are clear. No pneumothorax or pleural effusion."
    static let nodule = "Stable nodular opacity in the right upper lobe. No pleural effusion or pneumothorax."
    /// A common conclusion, but not the one the model alone writes for these findings.
    static let earlierConclusion = "No acute cardiopulmonary abnormality."
    static let ownConclusion = "Right upper lobe nodule, stable since the prior study."

    static func report(_ id: String, study: String, findings: String, impression: String) -> Event {
        .report(ReportEvent(eventID: id, studyID: study, reportID: id, format: .text,
                            body: "FINDINGS: \(findings)\n\nIMPRESSION: \(impression)\n"))
    }

    @Test func theSummarizerDrawsOnTheReportsInPostgreSQLButNeverOnAStudysOwn() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("report_memory")
        var configuration = try environment.configuration(name: "report-memory", conninfo: conninfo)
        configuration.models.classifyImages = false
        configuration.models.captionImages = false
        configuration.models.summaryMemory.refreshSeconds = 1
        let producer = try EventFactory.producer(for: environment.broker.bootstrapServers)
        func send(_ events: [Event]) throws {
            for event in events { try producer.send(topic: configuration.kafka.reportTopic, key: Array(event.studyID.utf8), value: event.encoded()) }
            try producer.flush()
        }
        let summarizer = try Summarizer(contentsOf: URL(filePath: configuration.models.directory).appending(path: "summarizer"))
        let alone = summarizer.summarize([Self.normal, Self.nodule], decoding: .greedy)
        #expect(alone[0] != Self.earlierConclusion && alone[1] != Self.ownConclusion, "the model alone writes neither conclusion")

        // Earlier studies: five concluding alike on the same findings, and one nodule study.
        try send((0..<5).map { Self.report("earlier-\($0)", study: "earlier-\($0)", findings: Self.normal, impression: Self.earlierConclusion) }
                 + [Self.report("nodule-1", study: "nodule", findings: Self.nodule, impression: Self.ownConclusion)])
        let daemon = try InProcessDaemon(configuration: configuration)
        defer { daemon.stop() }
        let database = try PostgresConnection(conninfo)
        #expect(try eventually(timeout: .seconds(120)) { try database.execute("SELECT count(*) FROM reports").scalarInt == 6 })
        #expect(try eventually(timeout: .seconds(60)) { daemon.metric("radstream_summarizer_memory_reports") == 6 },
                "the refresher reads the six studies back")
        let stored = try StoredReportMemory(connection: database).load(limit: 100)
        #expect(Set(stored.entries.map(\.id)) == Set((0..<5).map { "earlier-\($0)" } + ["nodule"]))

        // A new study with the same findings gets what the earlier ones concluded; the nodule
        // study sent again (a correction, another event) is not its own neighbour.
        try send([Self.report("new-1", study: "new", findings: Self.normal, impression: "Normal chest."),
                  Self.report("nodule-2", study: "nodule", findings: Self.nodule, impression: Self.ownConclusion)])
        #expect(try eventually(timeout: .seconds(120)) { try database.execute("SELECT count(*) FROM reports").scalarInt == 8 })
        func generated(_ event: String) throws -> String? {
            try database.execute("SELECT generated_impression FROM reports WHERE event_id = $1", [.text(event)]).scalar
        }
        let new = try generated("new-1")
        #expect(new == Self.earlierConclusion, "generated: \(new ?? "nothing")")
        #expect(try generated("nodule-2") != Self.ownConclusion)
        #expect(try generated("nodule-2")?.isEmpty == false)
    }
}
