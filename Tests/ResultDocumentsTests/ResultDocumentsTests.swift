import ChildProcesses
import Events
import Foundation
import Testing
@testable import ResultDocuments

@Suite("Result documents: DICOM SR and FHIR DiagnosticReport")
struct ResultDocumentsTests {
    static let identity = DocumentIdentity(documentID: "7d444840-9dc0-11d1-b245-5ffdce74fad2", seriesID: "0f3c5b7e-1a2b-4c3d-8e9f-a0b1c2d3e4f5")
    static let result = ImageResult(
        eventID: "dicom:1.2.3.4.5.6", studyID: "1.2.3.4", imageID: "1.2.3.4.5.6",
        dicom: DicomIdentifiers(studyInstanceUID: "1.2.3.4", seriesInstanceUID: "1.2.3.4.5", sopInstanceUID: "1.2.3.4.5.6",
                                sopClassUID: "1.2.840.10008.5.1.4.1.1.1", modality: "CR", viewPosition: "PA",
                                accessionNumber: "ACC0001", patientID: "MRN12345", patientName: "DOE^JANE"),
        findings: [
            .init(model: "pneumonia", version: "2026-11-30-ab12cd34", probabilities: ["normal": 0.1234, "pneumonia": 0.8766],
                  decision: "pneumonia", applicable: true, applicability: 0.42),
            .init(model: "covid", version: "2026-11-29-0f0f0f0f", probabilities: ["covid": 0.02, "normal": 0.98], decision: "normal"),
        ],
        impression: "Right lower lobe consolidation.", captionerVersion: "2026-11-28-12345678")

    static func dump(_ bytes: [UInt8], with tool: String, _ arguments: [String] = []) throws -> String {
        let file = FileManager.default.temporaryDirectory.appending(path: "sr-test-\(UUID().uuidString).dcm")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try ChildProcess.run("/usr/bin/\(tool)", arguments + [file.path]).output
    }

    @Test func theUUIDsBecomeUIDsUnder2_25() {
        #expect(Self.identity.sopInstanceUID == "2.25.166508041112410060672666770310773930706")
        #expect(DocumentIdentity(documentID: "not a uuid", seriesID: "").sopInstanceUID == nil)
    }

    /// DCMTK's own dsrdump reads the SR back: its findings, their algorithms, the image it references.
    @Test func theStructuredReportReadsBackWithDsrdump() throws {
        let bytes = try StructuredReport.render(Self.result, identity: Self.identity)
        let tree = try Self.dump(bytes, with: "dsrdump", ["+Pc", "+Pl", "+Pu"])
        for expected in ["Comprehensive SR Document", "DOE^JANE" , "MRN12345", "Diagnostic imaging report",
                         #"(111001,DCM,"Algorithm Name")="pneumonia""#, #"(111003,DCM,"Algorithm Version")="2026-11-30-ab12cd34""#,
                         #"(DECISION,99RADSTREAM,"Decision")="pneumonia""#, #"(P-pneumonia,99RADSTREAM,"Probability of pneumonia")="0.8766""#,
                         #"(APPLICABLE,99RADSTREAM,"Model applicable to this image")="yes""#,
                         #"(APPLICABLE,99RADSTREAM,"Model applicable to this image")="not assessed""#,
                         #"(121073,DCM,"Impression")="Right lower lobe consolidation.""#, "IMAGE:", "1.2.3.4.5.6"] {
            #expect(tree.contains(expected), "\(expected)\n\(tree)")
        }
        let header = try Self.dump(bytes, with: "dcmdump")
        #expect(header.contains("(0008,0060) CS [SR]"))
        #expect(header.contains("(0020,000d) UI [1.2.3.4]"), "the image's study")
        #expect(header.contains("(0008,0018) UI [\(Self.identity.sopInstanceUID!)]"))
        #expect(header.contains("(0020,000e) UI [\(Self.identity.seriesInstanceUID!)]"))
        #expect(header.contains("CurrentRequestedProcedureEvidenceSequence"))
        // The same result and identity: the same instance (only its creation time may differ).
        let again = try Self.dump(try StructuredReport.render(Self.result, identity: Self.identity), with: "dcmdump")
        #expect(again.contains("(0008,0018) UI [\(Self.identity.sopInstanceUID!)]"))
    }

    @Test func anImageWithoutDICOMIdentifiersHasNoSR() {
        var result = Self.result
        result.dicom = nil
        #expect(throws: StructuredReport.Failure.self) { try StructuredReport.render(result, identity: Self.identity) }
    }

    @Test func theDiagnosticReportHoldsAnObservationPerClassifier() throws {
        let issued = Date(timeIntervalSince1970: 1_796_000_000)
        let bytes = FHIRDiagnosticReport.render(Self.result, identity: Self.identity, issued: issued)
        #expect(bytes == FHIRDiagnosticReport.render(Self.result, identity: Self.identity, issued: issued), "one result, one text")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(report["resourceType"] as? String == "DiagnosticReport" && report["id"] as? String == Self.identity.documentID)
        #expect(report["status"] as? String == "preliminary" && report["conclusion"] as? String == "Right lower lobe consolidation.")
        #expect((report["subject"] as? [String: Any])?["display"] as? String == "DOE^JANE")
        let contained = try #require(report["contained"] as? [[String: Any]])
        #expect(contained.count == 2 && contained.allSatisfy { $0["resourceType"] as? String == "Observation" })
        #expect((report["result"] as? [[String: String]])?.map { $0["reference"]! } == ["#finding-1", "#finding-2"])
        let pneumonia = contained[0]
        #expect((pneumonia["valueCodeableConcept"] as? [String: Any])?["text"] as? String == "pneumonia")
        let components = try #require(pneumonia["component"] as? [[String: Any]])
        let probability = components.compactMap { ($0["valueQuantity"] as? [String: Any])?["value"] as? Double }
        #expect(probability.prefix(2) == [0.1234, 0.8766])
        #expect(components.contains { $0["valueBoolean"] as? Bool == true })
        #expect((pneumonia["derivedFrom"] as? [[String: Any]])?.first.flatMap { ($0["identifier"] as? [String: String])?["value"] } == "urn:oid:1.2.3.4.5.6")
        // No gate for the covid model's version: no applicability component.
        #expect((contained[1]["component"] as? [[String: Any]])?.count == 2)
    }
}
