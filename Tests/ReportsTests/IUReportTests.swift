import Foundation
import TestSupport
import Testing
@testable import Reports

@Suite("IU/OpenI XML reports")
struct IUReportTests {
    static let sample = """
    <?xml version="1.0" encoding="utf-8"?>
    <eCitation><uId id="CXR7"/>
      <MedlineCitation><Article><Abstract>
        <AbstractText Label="COMPARISON">None.</AbstractText>
        <AbstractText Label="INDICATION">XXXX-year-old   with cough</AbstractText>
        <AbstractText Label="FINDINGS">The lungs are clear.
          No effusion &amp; no pneumothorax.</AbstractText>
        <AbstractText Label="IMPRESSION"/>
      </Abstract></Article></MedlineCitation>
      <MeSH><major>normal</major><automatic>effusion</automatic></MeSH>
      <parentImage id="CXR7_IM-1"/><parentImage id="CXR7_IM-2"/>
    </eCitation>
    """

    @Test func readsSectionsMeshAndImages() throws {
        let report = try IUReport.parse(Array(Self.sample.utf8))
        #expect(report.id == "CXR7")
        #expect(report.sections == ReportSections(findings: "The lungs are clear. No effusion & no pneumothorax.",
                                                  indication: "XXXX-year-old with cough", comparison: "None."))
        #expect(report.meshMajor == ["normal"])
        #expect(report.meshAutomatic == ["effusion"])
        #expect(report.imageIDs == ["CXR7_IM-1", "CXR7_IM-2"])
    }

    @Test func malformedXMLIsAnError() {
        #expect(throws: IUReport.ParseError.self) { try IUReport.parse(Array("<eCitation><Abstract>".utf8)) }
        #expect(throws: IUReport.ParseError.self) { try IUReport.parse(Array("<html><body/></html>".utf8)) }
    }

    /// Found by `Fuzz/run.sh FuzzIUXML` (kept in Fuzz/crashes/FuzzIUXML): an attribute name with
    /// a byte that is not UTF-8 made Foundation's parser trap and end the process; a `sections`
    /// run over a folder holding such a file died on it. Now it is an error line like any other.
    @Test func invalidUTF8IsAnErrorNotACrash() throws {
        let document: [UInt8] = Array("<eCitation><Abstract><AbstractText ".utf8) + [0xC1] + Array("abel=\"FINDINGS\">x</AbstractText></Abstract></eCitation>".utf8)
        let error = #expect(throws: IUReport.ParseError.self) { try IUReport.parse(document) }
        #expect(error?.description == "IU XML: not valid UTF-8")
        // Nor may a garbled encoding declaration let such bytes through (found next by the fuzzer).
        let garbled: [UInt8] = Array(#"<?xml version="1.0" encoding="utf-8"#.utf8) + [0xFF, 0xFF] + Array(#""?>"#.utf8) + document
        #expect(throws: IUReport.ParseError.self) { try IUReport.parse(garbled) }
        // A document that declares another encoding is the parser's to read (Latin-1 é is 0xE9).
        let latin1: [UInt8] = Array(#"<?xml version="1.0" encoding="ISO-8859-1"?><eCitation><Abstract><AbstractText Label="FINDINGS">caf"#.utf8)
            + [0xE9] + Array("</AbstractText></Abstract></eCitation>".utf8)
        #expect(try IUReport.parse(latin1).sections.findings == "café")
    }

    /// Found by the fuzzer (Fuzz/crashes/FuzzIUXML/crash-processing-instruction-without-data):
    /// Foundation's parser reads the missing data of `<?x?>` through a null pointer and the process
    /// ends — in the daemon too, since such a body is valid UTF-8. The declaration is still read.
    @Test func aProcessingInstructionIsAnErrorNotACrash() throws {
        for document in ["<eCitation><?x?><Abstract/></eCitation>", "<?x?><eCitation/>", #"<?xml version="1.0"?><?x?><eCitation/>"#,
                         #"<?xml version="1.0<?x?">"#] {
            let error = #expect(throws: IUReport.ParseError.self) { try IUReport.parse(Array(document.utf8)) }
            #expect(error?.description.contains("processing instructions") == true, "\(document)")
        }
        let declared = #"<?xml version="1.0" encoding="utf-8"?><eCitation><Abstract><AbstractText Label="FINDINGS">Clear.</AbstractText></Abstract></eCitation>"#
        #expect(try IUReport.parse(Array(declared.utf8)).sections.findings == "Clear.")
    }

    /// The real collection, read in place: study 1000's sections, MeSH terms and image ids are
    /// what the file holds, found here by plain regular expressions over its text (no report
    /// text is copied into the repository).
    @Test func readsARealReport() throws {
        let url = TestData.root.appending(path: "openi/reports/1000.xml")
        let xml = try String(contentsOf: url, encoding: .utf8)
        let report = try IUReport.parse(Array(xml.utf8))
        func matches(_ pattern: String) throws -> [String] {
            let regex = try NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators])
            return regex.matches(in: xml, range: NSRange(xml.startIndex..., in: xml)).map {
                String(xml[Range($0.range(at: 1), in: xml)!])
            }
        }
        func section(_ label: String) throws -> String? {
            try matches(#"<AbstractText Label="\#(label)">(.*?)</AbstractText>"#).first.map {
                $0.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            }
        }
        let expected = ReportSections(findings: try section("FINDINGS"), impression: try section("IMPRESSION"),
                                      indication: try section("INDICATION"), comparison: try section("COMPARISON"))
        #expect(expected.findings != nil && expected.impression != nil && expected.indication != nil && expected.comparison != nil,
                "study 1000 has four labelled sections")
        #expect(report.sections.findings == expected.findings && report.sections.comparison == expected.comparison)
        #expect(report.sections.indication == expected.indication)
        // The impression is numbered ("1. … 2. …"); the parser keeps it as one text.
        #expect(report.sections.impression == expected.impression && report.sections.impression?.hasPrefix("1. ") == true)
        #expect(report.meshMajor == (try matches("<major>(.*?)</major>")) && !report.meshMajor.isEmpty)
        #expect(report.imageIDs == (try matches(#"<parentImage id="(.*?)""#)) && report.imageIDs.count >= 2)
    }
}
