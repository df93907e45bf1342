import Foundation

/// An image's result as a FHIR R4 DiagnosticReport, its findings as contained Observations
/// (one per classifier), as JSON. Preliminary: a model's reading, not a radiologist's signed report.
public enum FHIRDiagnosticReport {
    static let radstream = "https://radstream.example/fhir"

    /// The resource as a JSON object (keys sorted when encoded).
    static func resource(_ result: ImageResult, identity: DocumentIdentity, issued: Date) -> CompactJSON {
        let dicom = result.dicom
        let ids = result.findings.indices.map { "finding-\($0 + 1)" }
        var observations: [CompactJSON] = []
        for (index, finding) in result.findings.enumerated() {
            var components: [CompactJSON] = finding.probabilities.sorted { $0.key < $1.key }.map { name, probability in
                ["code": ["coding": [["system": "\(radstream)/finding", "code": .string(name)]], "text": "Probability of \(name)"],
                 "valueQuantity": ["value": .number(rounded(probability)), "system": "http://unitsofmeasure.org", "code": "1", "unit": "probability"]]
            }
            if let applicable = finding.applicable {
                components.append(["code": ["coding": [["system": "\(radstream)/applicability", "code": "applicable"]],
                                            "text": "Model applicable to this image"], "valueBoolean": .bool(applicable)])
            }
            if let score = finding.applicability {
                components.append(["code": ["coding": [["system": "\(radstream)/applicability", "code": "score"]],
                                            "text": "Applicability score"], "valueQuantity": ["value": .number(rounded(score))]])
            }
            var observation: [String: CompactJSON] = [
                "resourceType": "Observation", "id": .string(ids[index]), "status": "preliminary",
                "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "imaging"]]]],
                "code": ["coding": [["system": "\(radstream)/model", "code": .string(finding.model)]], "text": "\(finding.model) (RadStream)"],
                "valueCodeableConcept": ["coding": [["system": "\(radstream)/decision", "code": .string(finding.decision)]], "text": .string(finding.decision)],
                "device": ["display": "RadStream \(finding.model) \(finding.version)"],
                "component": .array(components),
            ]
            if let dicom {
                observation["derivedFrom"] = [["identifier": ["system": "urn:dicom:uid", "value": "urn:oid:\(dicom.sopInstanceUID)"]]]
            }
            observations.append(.object(observation))
        }
        var report: [String: CompactJSON] = [
            "resourceType": "DiagnosticReport",
            "id": .string(identity.documentID),
            "identifier": [["system": "\(radstream)/event", "value": .string(result.eventID)]],
            "status": "preliminary",
            "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD", "display": "Radiology"]]]],
            "code": ["coding": [["system": "http://loinc.org", "code": "18748-4", "display": "Diagnostic imaging study"]],
                     "text": "RadStream image findings"],
            "issued": .string(issued.formatted(.iso8601)),
            "performer": [["display": "RadStream"]],
            "contained": .array(observations),
            "result": .array(ids.map { ["reference": "#\($0)"] }),
            "imagingStudy": [["identifier": ["system": "urn:dicom:uid", "value": "urn:oid:\(dicom?.studyInstanceUID ?? result.studyID)"]]],
        ]
        if let patient = dicom?.patientID {
            report["subject"] = ["identifier": ["value": .string(patient)], "display": .string(dicom?.patientName ?? patient)]
        }
        if let impression = result.impression { report["conclusion"] = .string(impression) }
        return .object(report)
    }

    /// The resource's bytes: compact JSON, keys sorted, so that one result is always one text.
    public static func render(_ result: ImageResult, identity: DocumentIdentity, issued: Date) -> [UInt8] {
        resource(result, identity: identity, issued: issued).bytes
    }

    /// Probabilities to four places: the figure a reader needs, and the same text on every platform.
    private static func rounded(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }
}
