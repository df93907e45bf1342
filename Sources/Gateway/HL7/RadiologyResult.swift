import Events
import Foundation
import Reports

/// An ORU^R01 radiology result as a report event: the text of its OBX segments, under the
/// headings their observation identifiers name, keyed by the study's Study Instance UID.
struct RadiologyResult: Sendable {
    /// The event, or nil when the result is not final (see `notForwarded`).
    let event: ReportEvent?
    /// Why a well-formed result is acknowledged but not forwarded (a preliminary report: the
    /// final one follows).
    let notForwarded: String?

    /// Result statuses (OBR-25, else OBX-11) that are a radiologist's signed report: final and corrected.
    static let forwardedStatuses: Set<String> = ["F", "C"]

    init(_ message: HL7Message, maxBodyBytes: Int) throws(HL7Error) {
        let header = message.header
        let type = message.component(header[9], 1), trigger = message.component(header[9], 2)
        guard type == "ORU", trigger == "R01" else {
            throw HL7Error(.unsupportedMessage, "message type \(type)^\(trigger) is not taken (only ORU^R01)")
        }
        let controlID = message.component(header[10], 1)
        guard !controlID.isEmpty else { throw HL7Error(.missingField, "MSH-10 (message control id) is empty") }
        guard let request = message.segments(named: "OBR").first else { throw HL7Error(.missingField, "no OBR segment") }
        let observations = message.segments(named: "OBX")
        guard !observations.isEmpty else { throw HL7Error(.missingField, "no OBX segment: the report has no text") }

        guard let studyUID = Self.studyInstanceUID(message, observations: observations) else {
            throw HL7Error(.missingField, "no Study Instance UID (ZDS-1, or an OBX 113014^DICOM Study^DCM): the report cannot be joined to its images")
        }
        guard ReceivedInstance.isUID(studyUID) else { throw HL7Error(.malformed, "the Study Instance UID \(studyUID.prefix(70)) is not a UID") }

        let status = message.component(request[25], 1).isEmpty ? message.component(observations[0][11], 1) : message.component(request[25], 1)
        let body = Self.reportText(message, observations: observations)
        guard !body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw HL7Error(.missingField, "the OBX segments hold no report text")
        }
        guard body.utf8.count <= maxBodyBytes else {
            throw HL7Error(.malformed, "report text of \(body.utf8.count) bytes exceeds the bound of \(maxBodyBytes)")
        }
        guard Self.forwardedStatuses.contains(status) else {
            event = nil
            notForwarded = "result status \(status.isEmpty ? "(empty)" : status) is not final (F) or corrected (C): not forwarded"
            return
        }
        // The accession number (OBR-18 in IHE's radiology profiles, else the filler order number)
        // names the report; the sending facility and control id name the message, so that a
        // message sent again (its ACK lost) is the same event.
        let accession = [message.component(request[18], 1), message.component(request[3], 1), controlID].first { !$0.isEmpty }!
        let facility = message.component(header[4], 1)
        event = ReportEvent(eventID: "hl7:" + (facility.isEmpty ? "" : facility + ":") + controlID, studyID: studyUID,
                            reportID: accession, format: .text, body: body, producedAt: Date().formatted(.iso8601))
        notForwarded = nil
    }

    /// ZDS-1 (IHE Scheduled Workflow) or an OBX whose identifier is DICOM's code 113014 "Study".
    private static func studyInstanceUID(_ message: HL7Message, observations: [HL7Message.Segment]) -> String? {
        if let zds = message.segments(named: "ZDS").first {
            let uid = message.component(zds[1], 1)
            if !uid.isEmpty { return uid }
        }
        for observation in observations where message.component(observation[3], 1) == "113014" {
            let uid = message.component(observation[5], 1)
            if !uid.isEmpty { return uid }
        }
        return nil
    }

    /// The text values (TX, FT, ST) in order, one line per repetition; a change of section, as
    /// the observation identifiers say it (`&IMP`, `&FND`, LOINC 19005-8, 18782-3), starts a
    /// heading that the report splitter reads.
    private static func reportText(_ message: HL7Message, observations: [HL7Message.Segment]) -> String {
        var lines: [String] = []
        var section: String?
        for observation in observations {
            let valueType = message.component(observation[2], 1)
            guard ["TX", "FT", "ST"].contains(valueType) else { continue }
            let heading = Self.heading(of: observation, in: message)
            if let heading, heading != section {
                lines.append("")
                lines.append(heading + ":")
                section = heading
            }
            lines.append(contentsOf: message.repetitions(observation[5]))
        }
        return lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func heading(of observation: HL7Message.Segment, in message: HL7Message) -> String? {
        let identifier = message.component(observation[3], 1).uppercased()
        let text = message.component(observation[3], 2).uppercased()
        if identifier.hasSuffix("&IMP") || identifier == "19005-8" || text.contains("IMPRESSION") { return "IMPRESSION" }
        if identifier.hasSuffix("&FND") || identifier == "18782-3" || text.contains("FINDINGS") { return "FINDINGS" }
        return nil
    }
}
