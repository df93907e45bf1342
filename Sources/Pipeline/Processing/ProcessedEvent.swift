import Events
import Kafka
import Reports

/// Where an event came from: its identity for exactly-once writes.
public struct EventSource: Sendable, Hashable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public let key: String?

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    public init(topic: String, partition: Int32, offset: Int64, key: String?) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
    }

    init(_ message: KafkaMessage) {
        self.init(topic: message.topic, partition: message.partition, offset: message.offset, key: message.keyString)
    }
}

/// What becomes of an image event: its row, its kept pixels, and whatever the stages add.
public struct ImageRecord: Sendable {
    public var eventID: String
    public var studyID: String
    public var imageID: String
    public var source: String          // "inline" or "uri"
    public var format: String
    public var width: Int
    public var height: Int
    public var sourceBitDepth: Int
    public var photometric: String?
    public var labelsJSON: String?
    /// Square greyscale copies by side, kept so that training never refetches an image.
    public var thumbnails: [Int: [UInt8]] = [:]
    /// What each image classifier said.
    public var predictions: [ImagePrediction] = []
    /// The captioner's impression, its version, and whether the labeler reads pneumonia in it.
    public var generatedImpression: String?
    public var captionerVersion: String?
    public var generatedStatesPneumonia: Bool?
    /// The instance's identifiers, when it came by C-STORE: what a result sent back references.
    public var dicom: DicomIdentifiers?
}

/// One classifier's answer for one image, with the model version that gave it.
public struct ImagePrediction: Sendable, Equatable {
    public var model: String
    public var modelVersion: String
    /// Calibrated probability by class name.
    public var probabilities: [String: Float]
    /// The class decided (at the threshold chosen on the validation set).
    public var decision: String
    /// The Grad-CAM map of the decided class, as a greyscale PNG at the model's input side.
    public var saliencyPNG: [UInt8]
    /// Whether the model is fit to read the film, and the score (nil: no gate for this version).
    public var applicable: Bool?
    public var applicability: Float?

    public init(model: String, modelVersion: String, probabilities: [String: Float], decision: String, saliencyPNG: [UInt8],
                applicable: Bool? = nil, applicability: Float? = nil) {
        self.model = model
        self.modelVersion = modelVersion
        self.probabilities = probabilities
        self.decision = decision
        self.saliencyPNG = saliencyPNG
        self.applicable = applicable
        self.applicability = applicability
    }
}

/// What becomes of a report event: its sections and whatever the stages add.
public struct ReportRecord: Sendable {
    public var eventID: String
    public var studyID: String
    public var reportID: String
    public var format: String
    public var sections: ReportSections
    public var labelsJSON: String?
    /// What the labeler read in the findings and impression, and its version.
    public var observations: [Observation: ObservationStatus]?
    public var labelerVersion: String?
    /// The summarizer's impression, from the FINDINGS alone, and its version.
    public var generatedImpression: String?
    public var summarizerVersion: String?
    /// Observations the labeler reads differently in the radiologist's impression and the
    /// generated one (nil when there is no pair to compare).
    public var impressionDisagreements: [Observation]?
}

/// Why an event was refused; the event's own bytes travel beside it in `ProcessedEvent.raw`.
public struct DeadLetter: Sendable {
    public let code: String
    public let reason: String
}

public enum ProcessedPayload: Sendable {
    case image(ImageRecord)
    case report(ReportRecord)
    case deadLetter(DeadLetter)
}

public struct ProcessedEvent: Sendable {
    public let source: EventSource
    /// The record's bytes as consumed: what a dead letter keeps and republishes.
    public let raw: [UInt8]
    public let payload: ProcessedPayload

    /// The same event, refused.
    func refused(_ letter: DeadLetter) -> ProcessedEvent {
        ProcessedEvent(source: source, raw: raw, payload: .deadLetter(letter))
    }

    /// The same event with another payload.
    func with(_ payload: ProcessedPayload) -> ProcessedEvent {
        ProcessedEvent(source: source, raw: raw, payload: payload)
    }
}
