/// An image of a study, inline or by reference, with the labels known for it (if any).
public struct ImageEvent: Sendable, Equatable, Codable {
    public var schema: String = EventSchema.imageV1.rawValue
    public var eventID: String
    public var studyID: String
    public var imageID: String
    /// Base64 of the file's bytes (PNG, JPEG or DICOM). Exactly one of `inline` and `uri`.
    public var inline: String?
    /// `file://` URI under one of the daemon's allowed roots.
    public var uri: String?
    /// Ground truth known for the image, e.g. `{"pneumonia": 1}`; absent when unlabeled.
    public var labels: [String: Int]?
    public var producedAt: String?
    /// What a DICOM sender said of the image, when it came by C-STORE (the gateway).
    public var dicom: DicomIdentifiers?

    public init(eventID: String, studyID: String, imageID: String, inline: String? = nil, uri: String? = nil,
                labels: [String: Int]? = nil, producedAt: String? = nil, dicom: DicomIdentifiers? = nil) {
        self.eventID = eventID
        self.studyID = studyID
        self.imageID = imageID
        self.inline = inline
        self.uri = uri
        self.labels = labels
        self.producedAt = producedAt
        self.dicom = dicom
    }

    enum CodingKeys: String, CodingKey {
        case schema, inline, uri, labels, dicom
        case eventID = "event_id", studyID = "study_id", imageID = "image_id", producedAt = "produced_at"
    }
}

/// The identifiers of a DICOM instance (empty strings are left out), and who sent it.
public struct DicomIdentifiers: Sendable, Equatable, Codable {
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var sopClassUID: String
    public var modality: String?
    public var viewPosition: String?
    public var bodyPartExamined: String?
    public var accessionNumber: String?
    /// Who the image is of, so that results sent back are filed with the right patient.
    public var patientID: String?
    public var patientName: String?
    public var callingAETitle: String?

    public init(studyInstanceUID: String, seriesInstanceUID: String, sopInstanceUID: String, sopClassUID: String,
                modality: String? = nil, viewPosition: String? = nil, bodyPartExamined: String? = nil,
                accessionNumber: String? = nil, patientID: String? = nil, patientName: String? = nil,
                callingAETitle: String? = nil) {
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUID = sopInstanceUID
        self.sopClassUID = sopClassUID
        self.modality = modality
        self.viewPosition = viewPosition
        self.bodyPartExamined = bodyPartExamined
        self.accessionNumber = accessionNumber
        self.patientID = patientID
        self.patientName = patientName
        self.callingAETitle = callingAETitle
    }

    enum CodingKeys: String, CodingKey {
        case modality
        case studyInstanceUID = "study_instance_uid", seriesInstanceUID = "series_instance_uid"
        case sopInstanceUID = "sop_instance_uid", sopClassUID = "sop_class_uid", viewPosition = "view_position"
        case bodyPartExamined = "body_part_examined", accessionNumber = "accession_number", callingAETitle = "calling_ae_title"
        case patientID = "patient_id", patientName = "patient_name"
    }
}
