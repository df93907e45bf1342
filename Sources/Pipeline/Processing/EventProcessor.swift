import Dispatch
import Events
import Foundation
import Imaging
import Kafka
import Reports

/// Turns consumed records into results or dead letters. Pure apart from reading `file://`
/// images: no database, no broker, so it is tested on its own.
public struct EventProcessor: Sendable {
    public var parser: EventParser
    public var fetcher: ImageFetcher
    public var decoder: ImageDecoder
    public var imageStages: [any ImageStage]
    public var reportStages: [any ReportStage]

    public init(parser: EventParser, fetcher: ImageFetcher, decoder: ImageDecoder,
                imageStages: [any ImageStage], reportStages: [any ReportStage] = []) {
        self.parser = parser
        self.fetcher = fetcher
        self.decoder = decoder
        self.imageStages = imageStages
        self.reportStages = reportStages
    }

    public init(configuration: RadStreamConfiguration) {
        self.init(parser: EventParser(maxInlineImageBytes: configuration.images.maxInlineBytes),
                  fetcher: ImageFetcher(allowedRoots: configuration.images.allowedRoots,
                                        maxFileBytes: configuration.images.maxFileBytes),
                  decoder: ImageDecoder(maxPixels: configuration.images.maxPixels),
                  imageStages: [ThumbnailStage(sides: configuration.images.thumbnailSides)])
    }

    /// Processes a batch on every core; the order of the results is the order of the records.
    public func process(_ messages: [KafkaMessage]) -> [ProcessedEvent] {
        guard messages.count > 1 else { return messages.map(process) }
        let results = UnsafeMutableBufferPointer<ProcessedEvent?>.allocate(capacity: messages.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        nonisolated(unsafe) let slots = results  // each iteration writes its own slot only
        DispatchQueue.concurrentPerform(iterations: messages.count) { index in
            slots[index] = process(messages[index])
        }
        return results.map { $0! }
    }

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
        let bytes = try fetcher.bytes(of: event)
        let decoded = try decoder.decode(bytes)
        var record = ImageRecord(
            eventID: event.eventID, studyID: event.studyID, imageID: event.imageID,
            source: event.inline != nil ? "inline" : "uri", format: decoded.format.rawValue,
            width: decoded.image.width, height: decoded.image.height, sourceBitDepth: decoded.sourceBitDepth,
            photometric: decoded.photometric, labelsJSON: event.labels.map(Self.json))
        for stage in imageStages { try stage.run(decoded, into: &record) }
        return record
    }

    func report(_ event: ReportEvent) throws -> ReportRecord {
        let sections = try ReportReader.sections(of: Array(event.body.utf8), format: event.format)
        var record = ReportRecord(eventID: event.eventID, studyID: event.studyID, reportID: event.reportID,
                                  format: event.format.rawValue, sections: sections,
                                  labelsJSON: event.labels.map(Self.json))
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

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}
