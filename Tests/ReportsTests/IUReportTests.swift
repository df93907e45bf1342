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

    /// The real collection: study 1000 has four labelled sections and a numbered impression.
    @Test func readsARealReport() throws {
        let url = TestData.root.appending(path: "openi/reports/1000.xml")
        let report = try IUReport.parse(Array(try Data(contentsOf: url)))
        #expect(report.sections.findings?.hasPrefix("There is XXXX increased opacity within the right upper lobe") == true)
        #expect(report.sections.impression?.hasPrefix("1. Increased opacity in the right upper lobe") == true)
        #expect(report.sections.comparison == "XXXX PA and lateral chest radiographs")
        #expect(report.meshMajor.contains("Pulmonary Atelectasis/upper lobe/right"))
        #expect(report.imageIDs.contains("CXR1000_IM-0003-1001"))
    }
}
