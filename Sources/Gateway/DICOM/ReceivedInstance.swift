import CDicomNetwork
import Events

/// What the listener read from a received instance's header.
struct ReceivedInstance: Sendable, Equatable {
    var callingAETitle: String
    var sopClassUID: String
    var sopInstanceUID: String
    var studyInstanceUID: String
    var seriesInstanceUID: String
    var accessionNumber: String
    var patientID: String
    var patientName: String
    var modality: String
    var viewPosition: String
    var bodyPartExamined: String
    var transferSyntaxUID: String
    var rows: Int
    var columns: Int
    var hasPixelData: Bool

    init(_ instance: rs_dicom_instance) {
        var copy = instance
        callingAETitle = text(&copy.calling_ae_title)
        sopClassUID = text(&copy.sop_class_uid)
        sopInstanceUID = text(&copy.sop_instance_uid)
        studyInstanceUID = text(&copy.study_instance_uid)
        seriesInstanceUID = text(&copy.series_instance_uid)
        accessionNumber = text(&copy.accession_number)
        patientID = text(&copy.patient_id)
        patientName = text(&copy.patient_name)
        modality = text(&copy.modality)
        viewPosition = text(&copy.view_position)
        bodyPartExamined = text(&copy.body_part_examined)
        transferSyntaxUID = text(&copy.transfer_syntax_uid)
        rows = Int(instance.rows)
        columns = Int(instance.columns)
        hasPixelData = instance.has_pixel_data != 0
    }

    /// Why this instance cannot become an image event, if it cannot: the UIDs name files and
    /// Kafka keys, so each must be a UID (digits and dots, at most 64), never a path.
    func problem() -> DimseStatus? {
        for (name, value) in [("SOPInstanceUID", sopInstanceUID), ("StudyInstanceUID", studyInstanceUID),
                              ("SeriesInstanceUID", seriesInstanceUID)] {
            if value.isEmpty { return .doesNotMatchSOPClass("no \(name)") }
            if !Self.isUID(value) { return .doesNotMatchSOPClass("\(name) is not a UID") }
        }
        guard hasPixelData, rows > 0, columns > 0 else { return .doesNotMatchSOPClass("no pixel data") }
        return nil
    }

    /// The identifiers the image event carries (empty attributes left out).
    var identifiers: DicomIdentifiers {
        func present(_ value: String) -> String? { value.isEmpty ? nil : value }
        return DicomIdentifiers(studyInstanceUID: studyInstanceUID, seriesInstanceUID: seriesInstanceUID,
                                sopInstanceUID: sopInstanceUID, sopClassUID: sopClassUID,
                                modality: present(modality), viewPosition: present(viewPosition),
                                bodyPartExamined: present(bodyPartExamined), accessionNumber: present(accessionNumber),
                                patientID: present(patientID), patientName: present(patientName),
                                callingAETitle: present(callingAETitle))
    }

    /// PS3.5 9.1: components of digits separated by dots, at most 64 characters. (Leading
    /// zeros, which the standard forbids, are let through: some modalities write them.)
    static func isUID(_ value: String) -> Bool {
        guard (1...64).contains(value.utf8.count) else { return false }
        return value.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { component in
            !component.isEmpty && component.allSatisfy(\.isASCIIDigit)
        }
    }
}

private func text<T>(_ tuple: inout T) -> String {
    withUnsafeBytes(of: &tuple) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
