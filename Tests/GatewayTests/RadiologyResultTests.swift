import Foundation
import Reports
import Testing
@testable import Gateway

@Suite("ORU^R01 radiology results as report events")
struct RadiologyResultTests {
    func result(_ fixture: String) throws -> RadiologyResult {
        try RadiologyResult(HL7Message(parsing: HL7MessageTests.fixture(fixture)), maxBodyBytes: 262_144)
    }

    @Test func aFinalResultIsAReportOfItsStudyWithItsSections() throws {
        let event = try #require(try result("oru-final.hl7").event)
        #expect(event.studyID == "1.2.826.0.1.3680043.8.498.10001")
        #expect(event.eventID == "hl7:GENHOSP:MSG0001" && event.reportID == "ACC0001" && event.format == .text)
        // The daemon's section parser finds what the OBX identifiers said.
        let sections = try ReportReader.sections(of: Array(event.body.utf8), format: event.format)
        #expect(sections.findings == "The heart is normal in size. The mediastinum is unremarkable. The lungs are clear without focal consolidation, effusion or pneumothorax.")
        #expect(sections.impression == "No acute cardiopulmonary disease.")
    }

    @Test func formattedTextLOINCSectionsAndTheStudyInAnObservation() throws {
        let event = try #require(try result("oru-formatted-text.hl7").event)
        #expect(event.studyID == "1.2.826.0.1.3680043.8.498.10002" && event.reportID == "ACC0002")
        let sections = try ReportReader.sections(of: Array(event.body.utf8), format: event.format)
        #expect(sections.findings == "Cardiomegaly. Small right pleural effusion & basilar atelectasis.")
        #expect(sections.impression == "Cardiomegaly with a small right effusion.")
    }

    @Test func aPreliminaryResultIsNotForwarded() throws {
        let preliminary = try result("oru-preliminary.hl7")
        #expect(preliminary.event == nil)
        #expect(preliminary.notForwarded?.contains("result status P") == true)
    }

    @Test(arguments: [
        ("oru-without-study.hl7", HL7Error.Kind.missingField, "no Study Instance UID"),
        ("adt-admit.hl7", .unsupportedMessage, "ADT^A01 is not taken"),
    ])
    func whatCannotBeAReportIsRefusedWithTheReason(fixture: String, kind: HL7Error.Kind, reason: String) {
        #expect { try result(fixture) } throws: { error in
            guard let error = error as? HL7Error else { return false }
            return error.kind == kind && error.description.contains(reason)
        }
    }

    @Test func aStudyIdThatIsNotAUIDIsRefused() throws {
        let text = try HL7MessageTests.fixture("oru-final.hl7").replacing("1.2.826.0.1.3680043.8.498.10001", with: "../../etc/passwd")
        #expect { try RadiologyResult(HL7Message(parsing: text), maxBodyBytes: 262_144) } throws: {
            ($0 as? HL7Error)?.description.contains("is not a UID") == true
        }
    }

    @Test func aReportLargerThanTheBoundIsRefused() throws {
        let text = try HL7MessageTests.fixture("oru-final.hl7")
        #expect { try RadiologyResult(HL7Message(parsing: text), maxBodyBytes: 100) } throws: {
            ($0 as? HL7Error)?.description.contains("exceeds the bound of 100") == true
        }
    }
}
