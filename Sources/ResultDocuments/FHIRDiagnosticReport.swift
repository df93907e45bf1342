import Foundation

/// An image's result as a FHIR R4 DiagnosticReport, its findings as contained Observations
/// (one per classifier), as JSON. Preliminary: a model's reading, not a radiologist's signed report.
public enum FHIRDiagnosticReport {
    static let radstream = "https://radstream.example/fhir"

    /// The resource as a JSON object (keys sorted when encoded).
    public static func resource(_ result: ImageResult, identity: DocumentIdentity, issued: Date) -> [String: Any] {
        let dicom = result.dicom
        var observations: [[String: Any]] = []
        for (index, finding) in result.findings.enumerated() {
            var components: [[String: Any]] = finding.probabilities.sorted { $0.key < $1.key }.map { name, probability in
                ["code": ["coding": [["system": "\(radstream)/finding", "code": name]], "text": "Probability of \(name)"],
                 "valueQuantity": ["value": rounded(probability), "system": "http://unitsofmeasure.org", "code": "1", "unit": "probability"]]
            }
            if let applicable = finding.applicable {
                components.append(["code": ["coding": [["system": "\(radstream)/applicability", "code": "applicable"]],
                                            "text": "Model applicable to this image"], "valueBoolean": applicable])
            }
            if let score = finding.applicability {
                components.append(["code": ["coding": [["system": "\(radstream)/applicability", "code": "score"]],
                                            "text": "Applicability score"], "valueQuantity": ["value": rounded(score)]])
            }
            var observation: [String: Any] = [
                "resourceType": "Observation", "id": "finding-\(index + 1)", "status": "preliminary",
                "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "imaging"]]]],
                "code": ["coding": [["system": "\(radstream)/model", "code": finding.model]], "text": "\(finding.model) (RadStream)"],
                "valueCodeableConcept": ["coding": [["system": "\(radstream)/decision", "code": finding.decision]], "text": finding.decision],
                "device": ["display": "RadStream \(finding.model) \(finding.version)"],
                "component": components,
            ]
            if let dicom {
                observation["derivedFrom"] = [["identifier": ["system": "urn:dicom:uid", "value": "urn:oid:\(dicom.sopInstanceUID)"]]]
            }
            observations.append(observation)
        }
        var report: [String: Any] = [
            "resourceType": "DiagnosticReport",
            "id": identity.documentID,
            "identifier": [["system": "\(radstream)/event", "value": result.eventID]],
            "status": "preliminary",
            "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD", "display": "Radiology"]]]],
            "code": ["coding": [["system": "http://loinc.org", "code": "18748-4", "display": "Diagnostic imaging study"]],
                     "text": "RadStream image findings"],
            "issued": issued.formatted(.iso8601),
            "performer": [["display": "RadStream"]],
            "contained": observations,
            "result": observations.map { ["reference": "#\($0["id"]!)"] },
            "imagingStudy": [["identifier": ["system": "urn:dicom:uid", "value": "urn:oid:\(dicom?.studyInstanceUID ?? result.studyID)"]]],
        ]
        if let patient = dicom?.patientID {
            report["subject"] = ["identifier": ["value": patient], "display": dicom?.patientName ?? patient]
        }
        if let impression = result.impression { report["conclusion"] = impression }
        return report
    }

    /// The resource's bytes: compact JSON, keys sorted, so that one result is always one text.
    public static func render(_ result: ImageResult, identity: DocumentIdentity, issued: Date) -> [UInt8] {
        // Plain dictionaries of strings, numbers and booleans: serialisation cannot fail.
        Array(try! JSONSerialization.data(withJSONObject: resource(result, identity: identity, issued: issued),
                                          options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    /// Probabilities to four places: the figure a reader needs, and the same text on every platform.
    private static func rounded(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }
}
