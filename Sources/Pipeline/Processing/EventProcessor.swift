import Diffusion
import Events
import Foundation
import Imaging
import Kafka
import Models
import Reports
import Summarization
import TensorEngine

/// Turns consumed records into results or dead letters. Pure apart from reading `file://`
/// images: no database, no broker, so it is tested on its own.
public struct EventProcessor: Sendable {
    public var parser: EventParser
    public var fetcher: ImageFetcher
    public var decoder: ImageDecoder
    public var imageStages: [any ImageStage]
    public var imageBatchStages: [any ImageBatchStage]
    public var reportStages: [any ReportStage]
    public var reportBatchStages: [any ReportBatchStage]
    /// The joint diffusion model the counterfactual worker explains positive calls with (loaded
    /// with the other models, so that one that cannot load stops the start); not a stage.
    public var explainer: JointDiffusionModel?

    public init(parser: EventParser, fetcher: ImageFetcher, decoder: ImageDecoder,
                imageStages: [any ImageStage], imageBatchStages: [any ImageBatchStage] = [],
                reportStages: [any ReportStage] = [], reportBatchStages: [any ReportBatchStage] = []) {
        self.parser = parser
        self.fetcher = fetcher
        self.decoder = decoder
        self.imageStages = imageStages
        self.imageBatchStages = imageBatchStages
        self.reportStages = reportStages
        self.reportBatchStages = reportBatchStages
    }

    /// The daemon's processor: thumbnails for every image, and the models the configuration turns on.
    public init(configuration: RadStreamConfiguration) throws {
        let models = try ModelSet(configuration: configuration.models, counterfactuals: configuration.counterfactuals)
        // One labeler, so one memo of sentences, for reports, summaries and captions alike.
        let labeler = models.summarizer?.labeler ?? ReportLabeler()
        let batchStages: [any ImageBatchStage] = models.classifiers.map(ClassifierStage.init)
            + (models.captioner.map { [CaptionerStage(captioner: $0, labeler: labeler)] } ?? [])
        let memory = try models.summarizer.flatMap { try Self.reportMemory(configuration.models.summaryMemory, for: $0) }
        self.init(parser: EventParser(maxInlineImageBytes: configuration.images.maxInlineBytes),
                  fetcher: ImageFetcher(allowedRoots: configuration.images.allowedRoots,
                                        maxFileBytes: configuration.images.maxFileBytes),
                  decoder: ImageDecoder(maxPixels: configuration.images.maxPixels),
                  imageStages: [ThumbnailStage(sides: configuration.images.thumbnailSides,
                                               required: batchStages.reduce(into: Set()) { $0.formUnion($1.inputSides) })],
                  imageBatchStages: batchStages,
                  reportStages: configuration.models.labelReports ? [LabelerStage(labeler: labeler)] : [],
                  reportBatchStages: models.summarizer.map {
                      [SummarizerStage(summarizer: $0, decoding: configuration.models.summaryDecoding.decoding, memory: memory)]
                  } ?? [])
        explainer = models.explainer
    }

    /// The summarizer's memory the configuration asks for: read from a folder now, or empty
    /// until the daemon's refresher reads it from PostgreSQL; none for a summarizer without a reranker.
    static func reportMemory(_ settings: RadStreamConfiguration.SummaryMemory, for summarizer: Summarizer) throws -> ReportMemoryHolder? {
        try settings.validate()
        guard summarizer.reranker != nil else { return nil }
        switch settings.source {
        case .none: return nil
        case .database: return ReportMemoryHolder()
        case .folder:
            do {
                return ReportMemoryHolder(try ReportMemory(contentsOf: URL(filePath: settings.folder)))
            } catch {
                throw ConfigurationError("models.summaryMemory.folder \(settings.folder) cannot be read: \(error)")
            }
        }
    }

    /// The memory of earlier reports the summarizer stage draws on, if any.
    public var reportMemory: ReportMemoryHolder? {
        reportBatchStages.lazy.compactMap { ($0 as? SummarizerStage)?.memory }.first
    }

    /// The image classifiers the batch stages run, in order, with their gates.
    public var classifiers: [GatedClassifier] {
        imageBatchStages.compactMap { ($0 as? ClassifierStage)?.served }
    }

    /// Every model the batch stages run, by name and version (`radstream_model_info`).
    public var servedModels: [(name: String, version: String)] {
        imageBatchStages.compactMap { stage in
            if let classifier = stage as? ClassifierStage { return (classifier.served.name, classifier.served.version) }
            if let captioning = stage as? CaptionerStage { return ("captioner", captioning.captioner.settings.version) }
            return nil
        } + reportBatchStages.compactMap { stage in (stage as? SummarizerStage).map { ("summarizer", $0.summarizer.version) } }
    }

    /// The same processor with `classifier` (and its own gate) in place of the served classifier
    /// of its name: how a promoted version is swapped in, between two batches.
    public func replacing(_ classifier: GatedClassifier) -> EventProcessor {
        var copy = self
        copy.imageBatchStages = imageBatchStages.map { stage in
            guard let served = stage as? ClassifierStage, served.served.name == classifier.name else { return stage }
            return ClassifierStage(classifier)
        }
        return copy
    }

    /// Processes a batch: each event on every core, then the batch stages (the models) over all
    /// its images, and all its reports, at once. The order of the results is the order of the records.
    /// `timed` hears how long each part took: "events" (decoding, sections, the labeler, every
    /// per-event stage), then each batch stage by its model's name.
    public func process(_ messages: [KafkaMessage], timed: (String, Duration) -> Void = { _, _ in }) -> [ProcessedEvent] {
        let clock = ContinuousClock()
        var events: [ProcessedEvent] = []
        timed("events", clock.measure { events = messages.count > 1 ? concurrentMap(messages.count) { process(messages[$0]) } : messages.map(process) })
        Self.runBatchStages(imageBatchStages.map { stage in (stage.metricName, { stage.run(&$0) }) }, on: &events, timed: timed,
                            record: { if case .image(let record) = $0 { record } else { nil } }, payload: ProcessedPayload.image)
        Self.runBatchStages(reportBatchStages.map { stage in (stage.metricName, { stage.run(&$0) }) }, on: &events, timed: timed,
                            record: { if case .report(let record) = $0 { record } else { nil } }, payload: ProcessedPayload.report)
        return events
    }

    /// Runs `stages` over the records of one kind in `events` (those `record` extracts) at once,
    /// and puts the results back in place.
    private static func runBatchStages<Record>(_ stages: [(name: String, run: (inout [Record]) -> Void)], on events: inout [ProcessedEvent],
                                               timed: (String, Duration) -> Void,
                                               record: (ProcessedPayload) -> Record?, payload: (Record) -> ProcessedPayload) {
        guard !stages.isEmpty else { return }
        let indices = events.indices.filter { record(events[$0].payload) != nil }
        guard !indices.isEmpty else { return }
        var records = indices.map { record(events[$0].payload)! }
        let clock = ContinuousClock()
        for stage in stages { timed(stage.name, clock.measure { stage.run(&records) }) }
        for (index, record) in zip(indices, records) { events[index] = events[index].with(payload(record)) }
    }

    /// One event through the per-event stages only (no batch stages).
    public func process(_ message: KafkaMessage) -> ProcessedEvent {
        let source = EventSource(message)
        do {
            switch try parser.parse(message.value) {
            case .image(let event): return ProcessedEvent(source: source, raw: message.value, payload: .image(try image(event)))
            case .report(let event): return ProcessedEvent(source: source, raw: message.value, payload: .report(try report(event)))
            }
        } catch {
            let (code, reason) = Self.classify(error)
            return ProcessedEvent(source: source, raw: message.value, payload: .deadLetter(DeadLetter(code: code, reason: reason)))
        }
    }

    func image(_ event: ImageEvent) throws -> ImageRecord {
        Failpoints.processing(event.eventID)
        let bytes = try fetcher.bytes(of: event)
        let decoded = try decoder.decode(bytes)
        var record = ImageRecord(
            eventID: event.eventID, studyID: event.studyID, imageID: event.imageID,
            source: event.inline != nil ? "inline" : "uri", format: decoded.format.rawValue,
            width: decoded.image.width, height: decoded.image.height, sourceBitDepth: decoded.sourceBitDepth,
            photometric: decoded.photometric, labelsJSON: event.labels.map(JSONColumn.text))
        record.dicom = event.dicom
        for stage in imageStages { try stage.run(decoded, into: &record) }
        return record
    }

    func report(_ event: ReportEvent) throws -> ReportRecord {
        Failpoints.processing(event.eventID)
        let sections = try ReportReader.sections(of: Array(event.body.utf8), format: event.format)
        var record = ReportRecord(eventID: event.eventID, studyID: event.studyID, reportID: event.reportID,
                                  format: event.format.rawValue, sections: sections,
                                  labelsJSON: event.labels.map(JSONColumn.text))
        for stage in reportStages { try stage.run(on: &record) }
        return record
    }

    /// A dead letter's code and reason, from whichever module refused the event.
    static func classify(_ error: any Error) -> (String, String) {
        switch error {
        case let error as EventError: (error.code.rawValue, error.message)
        case let error as ImagingError: (EventError.Code.imageUndecodable.rawValue, error.message)
        case let error as ReportError:
            ((error.code == .empty ? EventError.Code.reportEmpty : .reportUnreadable).rawValue, error.description)
        default: (EventError.Code.processingFailed.rawValue, "\(error)")
        }
    }
}
