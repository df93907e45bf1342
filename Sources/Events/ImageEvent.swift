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

    public init(eventID: String, studyID: String, imageID: String, inline: String? = nil, uri: String? = nil,
                labels: [String: Int]? = nil, producedAt: String? = nil) {
        self.eventID = eventID
        self.studyID = studyID
        self.imageID = imageID
        self.inline = inline
        self.uri = uri
        self.labels = labels
        self.producedAt = producedAt
    }

    enum CodingKeys: String, CodingKey {
        case schema, inline, uri, labels
        case eventID = "event_id", studyID = "study_id", imageID = "image_id", producedAt = "produced_at"
    }
}
