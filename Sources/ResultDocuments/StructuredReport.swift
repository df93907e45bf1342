import CDicomReport
import Events
import Foundation

/// An image's result as a DICOM Comprehensive SR that references the image (DCMTK's dcmsr),
/// for the PACS to file beside it.
public enum StructuredReport {
    /// Comprehensive SR Storage: the SOP class of what `render` writes.
    public static let sopClassUID = "1.2.840.10008.5.1.4.1.1.88.33"

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The SR's bytes (a Part 10 file). Only an image that came with its DICOM identifiers can be referenced.
    public static func render(_ result: ImageResult, identity: DocumentIdentity) throws(Failure) -> [UInt8] {
        guard let dicom = result.dicom else { throw Failure(description: "the image has no DICOM identifiers to reference") }
        guard let instance = identity.sopInstanceUID, let series = identity.seriesInstanceUID else {
            throw Failure(description: "the document identity is not a pair of UUIDs")
        }
        let path = FileManager.default.temporaryDirectory.appending(path: "radstream-sr-\(UUID().uuidString).dcm").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var error = [CChar](repeating: 0, count: 512)
        // C strings that live as long as the call: every pointer below comes from `strings`.
        var strings: [UnsafeMutablePointer<CChar>] = []
        defer { strings.forEach { free($0) } }
        func c(_ value: String?) -> UnsafePointer<CChar>? {
            guard let value else { return nil }
            let copy = strdup(value)!
            strings.append(copy)
            return UnsafePointer(copy)
        }
        // Every model's probabilities in one buffer, each model pointing at its run of it.
        let sorted = result.findings.map { $0.probabilities.sorted { $0.key < $1.key } }
        let probabilities = sorted.flatMap { $0.map { rs_sr_probability(finding: c($0.key), probability: $0.value) } }
        let starts = sorted.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        let status: Int32 = probabilities.withUnsafeBufferPointer { table in
            let models = result.findings.enumerated().map { index, finding in
                rs_sr_model(name: c(finding.model), version: c(finding.version), decision: c(finding.decision),
                            probabilities: table.baseAddress.map { $0 + starts[index] }, probability_count: sorted[index].count,
                            applicable: finding.applicable.map { $0 ? 1 : 0 } ?? -1, applicability: finding.applicability ?? 0)
            }
            return models.withUnsafeBufferPointer { models in
                var document = rs_sr_document(
                    series_instance_uid: c(series), sop_instance_uid: c(instance),
                    study_instance_uid: c(dicom.studyInstanceUID), image_series_instance_uid: c(dicom.seriesInstanceUID),
                    image_sop_class_uid: c(dicom.sopClassUID), image_sop_instance_uid: c(dicom.sopInstanceUID),
                    patient_id: c(dicom.patientID ?? ""), patient_name: c(dicom.patientName ?? ""),
                    accession_number: c(dicom.accessionNumber ?? ""), models: models.baseAddress, model_count: models.count,
                    impression: c(result.impression), impression_model_version: c(result.captionerVersion))
                return rs_sr_write(&document, path, &error, error.count)
            }
        }
        guard status == 0 else {
            throw Failure(description: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        do { return try [UInt8](Data(contentsOf: URL(filePath: path))) } catch {
            throw Failure(description: "cannot read the written SR: \(error.localizedDescription)")
        }
    }
}
