import Events
import Foundation
import Kafka
import Reports
import TestSupport
import Testing
@testable import Pipeline

@Suite("Event processing, without servers")
struct EventProcessorTests {
    static let data = TestData.root

    let processor: EventProcessor = {
        var configuration = RadStreamConfiguration.standard
        configuration.images.allowedRoots = [data.path]
        configuration.models.classifyImages = false  // the classifier stage has its own tests
        return try! EventProcessor(configuration: configuration)
    }()

    func message(_ event: Event, offset: Int64 = 0) -> KafkaMessage {
        KafkaMessage(topic: "t", partition: 0, offset: offset, key: Array(event.studyID.utf8), value: event.encoded())
    }

    @Test func anImageKeepsItsThumbnailsUpToItsOwnSize() throws {
        let small = Event.image(ImageEvent(eventID: "e1", studyID: "s", imageID: "i",
                                           inline: try Data(contentsOf: Self.data.appending(path: "pneumoniamnist/val/val_00000.png")).base64EncodedString()))
        guard case .image(let record) = processor.process(message(small)).payload else { Issue.record("not processed"); return }
        #expect(record.width == 28 && record.height == 28 && record.source == "inline")
        #expect(Array(record.thumbnails.keys) == [28])

        let large = Event.image(ImageEvent(eventID: "e2", studyID: "1000", imageID: "i",
                                           uri: Self.data.appending(path: "samples/iu_1000_IM-0003-2001.png").absoluteString,
                                           labels: ["pneumonia": 0]))
        guard case .image(let big) = processor.process(message(large)).payload else { Issue.record("not processed"); return }
        #expect(big.width == 2048 && big.height == 2496 && big.source == "uri")
        #expect(big.thumbnails.keys.sorted() == [28, 64, 128])
        #expect(big.thumbnails.allSatisfy { $0.value.count == $0.key * $0.key })
        #expect(big.labelsJSON == #"{"pneumonia":0}"#)
    }

    @Test func aReportGetsItsSections() throws {
        let event = Event.report(ReportEvent(eventID: "e", studyID: "s", reportID: "r", format: .text,
                                             body: "FINDINGS: Clear lungs.\nIMPRESSION: Normal."))
        guard case .report(let record) = processor.process(message(event)).payload else { Issue.record("not processed"); return }
        #expect(record.sections.findings == "Clear lungs." && record.sections.impression == "Normal.")
        #expect(record.observations?[.noFinding] == .positive && record.observations?[.pneumonia] == .absent)
        #expect(record.labelerVersion == ReportLabeler.version)
    }

    @Test func failuresBecomeDeadLettersWithTheRecordsOwnBytes() {
        let messages = [
            KafkaMessage(topic: "t", partition: 1, offset: 7, key: nil, value: Array("nope".utf8)),
            message(.report(ReportEvent(eventID: "e", studyID: "s", reportID: "r", format: .text, body: "")), offset: 8),
            message(.image(ImageEvent(eventID: "e", studyID: "s", imageID: "i", inline: "aGVsbG8=")), offset: 9),
        ]
        let processed = processor.process(messages)
        #expect(processed.map(\.source.offset) == [7, 8, 9], "results keep the order of the records")
        let codes = processed.map { event -> String? in
            if case .deadLetter(let letter) = event.payload { return letter.code } else { return nil }
        }
        #expect(codes == ["malformed_json", "report_empty", "image_undecodable"])
        #expect(processed[0].raw == Array("nope".utf8))
    }
}
