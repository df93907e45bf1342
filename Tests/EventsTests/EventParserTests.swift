import Foundation
import Testing
@testable import Events

@Suite("Event parsing and validation")
struct EventParserTests {
    let parser = EventParser(maxEventBytes: 4096, maxInlineImageBytes: 1024)

    static let image = #"{"schema":"radstream.image.v1","event_id":"e1","study_id":"s1","image_id":"i1","inline":"iVBORw0KGgo=","labels":{"pneumonia":1}}"#
    static let report = #"{"schema":"radstream.report.v1","event_id":"e2","study_id":"s1","report_id":"r1","format":"text","body":"FINDINGS: clear."}"#

    @Test func parsesValidEvents() throws {
        guard case .image(let image) = try parser.parse(Array(Self.image.utf8)) else { Issue.record("not an image"); return }
        #expect(image.studyID == "s1" && image.labels == ["pneumonia": 1] && image.inline == "iVBORw0KGgo=")
        guard case .report(let report) = try parser.parse(Array(Self.report.utf8)) else { Issue.record("not a report"); return }
        #expect(report.format == .text && report.body == "FINDINGS: clear.")
    }

    @Test func encodedEventsParseBack() throws {
        let event = Event.report(ReportEvent(eventID: "e", studyID: "s", reportID: "r", format: .iuXML, body: "<x/>",
                                             labels: ["Pneumonia": "positive"]))
        #expect(try parser.parse(event.encoded()) == event)
    }

    @Test(arguments: [
        ("{\"schema\":", EventError.Code.malformedJSON),
        ("[]", .malformedJSON),
        ("{}", .unknownSchema),
        ("{\"schema\":\"radstream.image.v2\"}", .unknownSchema),
        ("{\"schema\":7}", .unknownSchema),
        ("{\"schema\":\"radstream.report.v1\",\"event_id\":\"e\"}", .invalidField),
        ("{\"schema\":\"radstream.report.v1\",\"event_id\":\"e\",\"study_id\":\"s\",\"report_id\":\"r\",\"format\":\"pdf\",\"body\":\"x\"}", .invalidField),
        ("{\"schema\":\"radstream.image.v1\",\"event_id\":\"e\",\"study_id\":\"s\",\"image_id\":\"i\"}", .invalidField),
        ("{\"schema\":\"radstream.image.v1\",\"event_id\":\"e\",\"study_id\":\"s\",\"image_id\":\"i\",\"inline\":\"AA==\",\"uri\":\"file:///x\"}", .invalidField),
        ("{\"schema\":\"radstream.image.v1\",\"event_id\":\"\",\"study_id\":\"s\",\"image_id\":\"i\",\"inline\":\"AA==\"}", .invalidField),
        ("{\"schema\":\"radstream.image.v1\",\"event_id\":\"a\\u0001b\",\"study_id\":\"s\",\"image_id\":\"i\",\"inline\":\"AA==\"}", .invalidField),
        ("{\"schema\":\"radstream.image.v1\",\"event_id\":\"e\",\"study_id\":\"s\",\"image_id\":\"i\",\"inline\":\"AA==\",\"labels\":{\"pneumonia\":2}}", .invalidField),
        ("{\"schema\":\"radstream.report.v1\",\"event_id\":\"e\",\"study_id\":\"s\",\"report_id\":\"r\",\"format\":\"text\",\"body\":\"x\",\"labels\":{\"Edema\":\"maybe\"}}", .invalidField),
    ])
    func refuses(_ json: String, with code: EventError.Code) {
        let error = #expect(throws: EventError.self) { try parser.parse(Array(json.utf8)) }
        #expect(error?.code == code, "\(error?.message ?? "")")
    }

    /// The errors say what was wrong in words a reader of the dead letters can act on, as
    /// they did when the schema was read by a parse of its own.
    @Test(arguments: [
        ("{\"schema\":", "not valid JSON: "), ("[]", "an event must be a JSON object"), ("\"radstream.report.v1\"", "an event must be a JSON object"),
        ("7", "an event must be a JSON object"), ("{}", "missing string field \"schema\""), ("{\"schema\":null}", "missing string field \"schema\""),
        ("{\"schema\":\"x\"}", "unknown schema \"x\" (known: radstream.image.v1, radstream.report.v1)"),
        ("{\"schema\":\"radstream.report.v1\",\"event_id\":\"e\"}", "missing field \""),
        ("{\"schema\":\"radstream.report.v1\",\"event_id\":7,\"study_id\":\"s\",\"report_id\":\"r\",\"format\":\"text\",\"body\":\"x\"}", "field \"event_id\": "),
    ])
    func says(_ json: String, what message: String) {
        let error = #expect(throws: EventError.self) { try parser.parse(Array(json.utf8)) }
        #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "")")
    }

    @Test func refusesOversizedEventsAndInlineImages() {
        let big = [UInt8](repeating: UInt8(ascii: " "), count: 5000)
        #expect((#expect(throws: EventError.self) { try parser.parse(big) })?.code == .payloadTooLarge)
        let inline = String(repeating: "A", count: 2000)
        let json = #"{"schema":"radstream.image.v1","event_id":"e","study_id":"s","image_id":"i","inline":"\#(inline)"}"#
        #expect((#expect(throws: EventError.self) { try parser.parse(Array(json.utf8)) })?.code == .payloadTooLarge)
    }
}
