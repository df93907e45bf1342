import Imaging

/// A step every decoded image goes through, after decoding and before the batch is written.
///
/// This is where models plug in: a classifier, the captioner or an explainer is an `ImageStage`
/// that reads `decoded` and writes its outputs into `record`; `EventProcessor.imageStages`
/// lists them in order. A stage that throws sends the event to the dead letters (the stream goes on).
public protocol ImageStage: Sendable {
    var name: String { get }
    func run(_ decoded: DecodedImage, into record: inout ImageRecord) throws
}

/// A step every report goes through once its sections are read: the labeler and the
/// summarizer plug in here, as `EventProcessor.reportStages`.
public protocol ReportStage: Sendable {
    var name: String { get }
    func run(on record: inout ReportRecord) throws
}
