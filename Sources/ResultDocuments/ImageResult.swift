import Events

/// What RadStream concluded about one image, as the documents are rendered from it (the
/// publisher reads it from the image's rows): the same facts always render the same documents.
public struct ImageResult: Sendable, Equatable {
    /// One classifier's reading; decoded as PostgreSQL's json_build_object writes it.
    public struct Finding: Codable, Sendable, Equatable {
        public var model: String
        public var version: String
        public var probabilities: [String: Double]
        public var decision: String
        /// Nil: the model version has no applicability gate.
        public var applicable: Bool?
        public var applicability: Double?

        public init(model: String, version: String, probabilities: [String: Double], decision: String,
                    applicable: Bool? = nil, applicability: Double? = nil) {
            (self.model, self.version, self.probabilities, self.decision) = (model, version, probabilities, decision)
            (self.applicable, self.applicability) = (applicable, applicability)
        }
    }

    public var eventID: String
    public var studyID: String
    public var imageID: String
    /// The instance's DICOM identifiers, when it came by C-STORE: only then can an SR reference it.
    public var dicom: DicomIdentifiers?
    public var findings: [Finding]
    public var impression: String?
    public var captionerVersion: String?

    public init(eventID: String, studyID: String, imageID: String, dicom: DicomIdentifiers? = nil, findings: [Finding],
                impression: String? = nil, captionerVersion: String? = nil) {
        (self.eventID, self.studyID, self.imageID, self.dicom, self.findings) = (eventID, studyID, imageID, dicom, findings)
        (self.impression, self.captionerVersion) = (impression, captionerVersion)
    }
}

/// The identity the outbox gives a result once, so that rendering it again renders the same
/// documents: the FHIR resource's id, the SR's series and instance UIDs.
public struct DocumentIdentity: Sendable, Equatable {
    public let documentID: String
    public let seriesID: String

    /// Two UUIDs (as PostgreSQL's gen_random_uuid writes them).
    public init(documentID: String, seriesID: String) {
        (self.documentID, self.seriesID) = (documentID, seriesID)
    }

    /// PS3.5 B.2: a UUID as a UID under 2.25, its 128 bits in decimal.
    static func uid(_ uuid: String) -> String? {
        let hex = uuid.filter { $0 != "-" }
        guard hex.count == 32, let value = UInt128(hex, radix: 16) else { return nil }
        return "2.25.\(value)"
    }

    public var sopInstanceUID: String? { Self.uid(documentID) }
    public var seriesInstanceUID: String? { Self.uid(seriesID) }
}
