import Foundation
import Testing
@testable import Gateway

@Suite("HL7 v2 messages")
struct HL7MessageTests {
    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test func fieldsAreNumberedAsTheStandardCountsThem() throws {
        let message = try HL7Message(parsing: Self.fixture("oru-final.hl7"))
        #expect(message.segments.map(\.name) == ["MSH", "PID", "PV1", "ORC", "OBR", "OBX", "OBX", "ZDS"])
        // MSH-1 is the field separator, MSH-2 the encoding characters.
        #expect(message.header[1] == "|" && message.header[2] == "^~\\&")
        #expect(message.component(message.header[9], 1) == "ORU" && message.component(message.header[9], 2) == "R01")
        #expect(message.header[10] == "MSG0001")
        let request = try #require(message.segments(named: "OBR").first)
        #expect(request[18] == "ACC0001" && request[25] == "F")
        #expect(message.component(request[4], 2) == "XR CHEST 2 VIEWS")
        #expect(message.component(request[4], 9) == "")
    }

    @Test func escapesBecomeTheCharactersTheyStandFor() throws {
        let message = try HL7Message(parsing: "MSH|^~\\&|A|B|C|D|||ORU^R01|1|P|2.5.1\r")
        #expect(message.unescaped(#"a\F\b\S\c\T\d\R\e\E\f"#) == "a|b^c&d~e\\f")
        #expect(message.unescaped(#"line one\.br\line two"#) == "line one\nline two")
        #expect(message.unescaped(#"\X4F4B\ and \H\bold\N\"#) == "OK and bold")
        #expect(message.unescaped(#"an unfinished \F"#) == #"an unfinished \F"#)
    }

    @Test func otherDelimitersAreReadFromTheHeader() throws {
        let message = try HL7Message(parsing: "MSH#*@!$#A#B#C#D###ORU*R01#7#P#2.5.1\nOBX#1#TX#X#1#one@two\n")
        #expect(message.delimiters.field == "#" && message.delimiters.component == "*" && message.delimiters.repetition == "@")
        #expect(message.component(message.header[9], 2) == "R01")
        #expect(message.repetitions(message.segments(named: "OBX")[0][5]) == ["one", "two"])
    }

    @Test(arguments: [
        ("", "does not begin with an MSH"),
        ("PID|1||123\rMSH|^~\\&|A", "does not begin with an MSH"),
        ("MSH|^|A|B\r", "encoding characters"),
        ("MSH|^~\\&|A|B|C|D|||ORU^R01|1|P|2.5.1\rthis is not a segment|x\r", "not a segment name"),
    ])
    func whatIsNotHL7IsRefusedWithTheReason(text: String, reason: String) {
        #expect { try HL7Message(parsing: text) } throws: { ($0 as? HL7Error).map { $0.kind == .malformed && $0.description.contains(reason) } ?? false }
    }
}
