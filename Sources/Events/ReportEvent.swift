import Reports

/// A radiology report of a study, as free text or IU/OpenI XML.
public struct ReportEvent: Sendable, Equatable, Codable {
    public var schema: String = EventSchema.reportV1.rawValue
    public var eventID: String
    public var studyID: String
    public var reportID: String
    public var format: ReportFormat
    public var body: String
    /// Ground truth known for the report, e.g. `{"Pneumonia": "positive"}`.
    public var labels: [String: String]?
    public var producedAt: String?

    public init(eventID: String, studyID: String, reportID: String, format: ReportFormat, body: String,
                labels: [String: String]? = nil, producedAt: String? = nil) {
        self.eventID = eventID
        self.studyID = studyID
        self.reportID = reportID
        self.format = format
        self.body = body
        self.labels = labels
        self.producedAt = producedAt
    }

    enum CodingKeys: String, CodingKey {
        case schema, format, body, labels
        case eventID = "event_id", studyID = "study_id", reportID = "report_id", producedAt = "produced_at"
    }
}
