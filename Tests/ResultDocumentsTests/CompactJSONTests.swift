import Foundation
import Testing
@testable import ResultDocuments

/// The documents' own JSON writer against Foundation's serialisation, which it replaced for speed:
/// the same bytes for the documents and for every kind of value they hold.
@Suite("Compact JSON: Foundation's bytes without its cost")
struct CompactJSONTests {
    static func foundation(_ value: CompactJSON) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: object(value), options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    static func object(_ value: CompactJSON) -> Any {
        switch value {
        case .string(let text): text
        case .number(let number): number
        case .bool(let flag): flag
        case .array(let elements): elements.map(object)
        case .object(let members): members.mapValues(object)
        }
    }

    @Test func theDiagnosticReportIsWhatFoundationWrites() {
        var withoutDICOM = ResultDocumentsTests.result
        (withoutDICOM.dicom, withoutDICOM.impression) = (nil, nil)
        for result in [ResultDocumentsTests.result, withoutDICOM] {
            let document = FHIRDiagnosticReport.resource(result, identity: ResultDocumentsTests.identity, issued: Date(timeIntervalSince1970: 1_796_000_000))
            #expect(document.bytes == Self.foundation(document))
            #expect(FHIRDiagnosticReport.render(result, identity: ResultDocumentsTests.identity, issued: Date(timeIntervalSince1970: 1_796_000_000))
                    == document.bytes)
        }
    }

    @Test func numbersAreWrittenAsFoundationWritesThem() {
        // Every probability and score a document holds is rounded to four places.
        let rounded = stride(from: -200_000, through: 200_000, by: 7).map { CompactJSON.number(Double($0) / 10_000) }
        let others: [CompactJSON] = [0.0, -0.0, 1, 1e15, 1e16, 2.5e-5, 1e-7, 12345.5, .number(0.1 + 0.2), .number(1.0 / 3), .number(9007199254740994)]
        let numbers = CompactJSON.array(rounded + others)
        #expect(numbers.bytes == Self.foundation(numbers))
        #expect(String(decoding: CompactJSON.array([1, -0.0, 0.1234]).bytes, as: UTF8.self) == "[1,-0,0.1234]")
    }

    @Test func stringsAreEscapedAsFoundationEscapesThem() {
        let controls = (0..<0x80).map { CompactJSON.string(String(UnicodeScalar(UInt8($0)))) }
        let texts: [CompactJSON] = ["DOE^JANE", "a/b", "quote \" and \\ back", "é", "日本", "😀", "\u{2028}", "", "line\nbreak\ttab"]
        let strings = CompactJSON.array(controls + texts)
        #expect(strings.bytes == Self.foundation(strings))
        #expect(String(decoding: CompactJSON.string("a/b\"\n\u{1}").bytes, as: UTF8.self) == #""a/b\"\n\u0001""#)
    }

    @Test func keysAreSortedAndNestingIsKept() {
        let document: CompactJSON = ["resourceType": "X", "result": [["reference": "#a"]], "id": "1", "identifier": [], "issued": true,
                                     "valueQuantity": ["value": 0.5, "unit": "probability"], "valueBoolean": false]
        #expect(document.bytes == Self.foundation(document))
        #expect(String(decoding: document.bytes, as: UTF8.self) == """
            {"id":"1","identifier":[],"issued":true,"resourceType":"X","result":[{"reference":"#a"}],\
            "valueBoolean":false,"valueQuantity":{"unit":"probability","value":0.5}}
            """)
    }
}
