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

/// A step that sees all the decoded images of a batch at once, after the `ImageStage`s: a model
/// runs faster on a batch than image by image. It reads what the per-image stages kept (the
/// square copies) and adds to the records; it cannot refuse an image.
public protocol ImageBatchStage: Sendable {
    var name: String { get }
    /// Square sides the stage reads from `ImageRecord.thumbnails`: every image gets them.
    var inputSides: Set<Int> { get }
    func run(_ records: inout [ImageRecord])
}

/// A step every report goes through once its sections are read: the labeler and the
/// summarizer plug in here, as `EventProcessor.reportStages`.
public protocol ReportStage: Sendable {
    var name: String { get }
    func run(on record: inout ReportRecord) throws
}

/// A step that sees all the reports of a batch at once, after the `ReportStage`s: the
/// summarizer decodes a batch of reports together. It adds to the records; it cannot refuse one.
public protocol ReportBatchStage: Sendable {
    var name: String { get }
    func run(_ records: inout [ReportRecord])
}

extension ImageBatchStage {
    /// The stage's label in `radstream_stage_duration_seconds`: its model's name, without the version.
    public var metricName: String { String(name.split(separator: " ").first ?? "stage") }
}

extension ReportBatchStage {
    public var metricName: String { String(name.split(separator: " ").first ?? "stage") }
}
