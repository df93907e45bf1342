import Foundation
import Schemas
import Testing
@testable import Events

/// The JSON Schema files describe what the parser enforces: same version names, same required fields.
@Suite("Event JSON Schemas agree with the parser")
struct SchemaFilesTests {
    func schema(_ name: String) throws -> [String: Any] {
        let file = try #require(try SchemaFiles.eventSchemas().first { $0.fileName == name })
        return try #require(try JSONSerialization.jsonObject(with: Data(file.json.utf8)) as? [String: Any])
    }

    @Test(arguments: [("image-event.v1.schema.json", EventSchema.imageV1, ["event_id", "study_id", "image_id"]),
                      ("report-event.v1.schema.json", .reportV1, ["event_id", "study_id", "report_id", "format", "body"])])
    func agrees(file: String, version: EventSchema, required: [String]) throws {
        let schema = try schema(file)
        let properties = try #require(schema["properties"] as? [String: Any])
        let const = (properties["schema"] as? [String: Any])?["const"] as? String
        #expect(const == version.rawValue)
        #expect(Set(schema["required"] as? [String] ?? []) == Set(["schema"] + required))
        // The parser refuses an event lacking any required field.
        let parser = EventParser()
        let complete: [String: Any] = [
            "schema": version.rawValue, "event_id": "e", "study_id": "s", "image_id": "i", "report_id": "r",
            "format": "text", "body": "FINDINGS: x", "inline": "AA==",
        ]
        #expect(throws: Never.self) { try parser.parse(Array(try JSONSerialization.data(withJSONObject: complete))) }
        for field in required {
            var partial = complete
            partial.removeValue(forKey: field)
            #expect(throws: EventError.self, "without \(field)") {
                try parser.parse(Array(try JSONSerialization.data(withJSONObject: partial)))
            }
        }
    }
}
