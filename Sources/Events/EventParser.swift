import Foundation
import Reports

/// Reads and validates an event's bytes: size, JSON, schema version, then every field.
public struct EventParser: Sendable {
    /// An event larger than this is refused before it is parsed (inline images included).
    public var maxEventBytes: Int
    /// Decoded size bound for an inline image.
    public var maxInlineImageBytes: Int

    public init(maxEventBytes: Int = 8 << 20, maxInlineImageBytes: Int = 6 << 20) {
        self.maxEventBytes = maxEventBytes
        self.maxInlineImageBytes = maxInlineImageBytes
    }

    public func parse(_ bytes: [UInt8]) throws(EventError) -> Event {
        guard bytes.count <= maxEventBytes else {
            throw EventError(.payloadTooLarge, "event of \(bytes.count) bytes exceeds the bound of \(maxEventBytes)")
        }
        let event: Event
        do {
            event = try JSONDecoder().decode(Envelope.self, from: Data(bytes)).event
        } catch let error as EventError {
            throw error
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw EventError(.malformedJSON, "not valid JSON: \(Self.reason(context.underlyingError ?? DecodingError.dataCorrupted(context)))")
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw EventError(.malformedJSON, "an event must be a JSON object")
        } catch let DecodingError.keyNotFound(key, _) {
            throw EventError(.invalidField, "missing field \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw EventError(.invalidField, "field \"\(Self.path(context))\": \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            throw EventError(.invalidField, "field \"\(Self.path(context))\": \(context.debugDescription)")
        } catch {
            throw EventError(.invalidField, Self.reason(error))
        }
        switch event {
        case .image(let image): try validate(image)
        case .report(let report): try validate(report)
        }
        return event
    }

    /// An event of the schema it names, read in the decoder's one pass over the bytes (reading
    /// the schema from a parse of its own first was half of reading an event).
    private struct Envelope: Decodable {
        let event: Event

        enum Keys: String, CodingKey { case schema }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            guard let name = try? container.decode(String.self, forKey: .schema) else {
                throw EventError(.unknownSchema, "missing string field \"schema\"")
            }
            guard let schema = EventSchema(rawValue: name) else {
                let known = EventSchema.allCases.map(\.rawValue).joined(separator: ", ")
                throw EventError(.unknownSchema, "unknown schema \"\(name.prefix(80))\" (known: \(known))")
            }
            switch schema {
            case .imageV1: event = .image(try ImageEvent(from: decoder))
            case .reportV1: event = .report(try ReportEvent(from: decoder))
            }
        }
    }

    func validate(_ event: ImageEvent) throws(EventError) {
        try Self.checkIdentifier(event.eventID, "event_id")
        try Self.checkIdentifier(event.studyID, "study_id")
        try Self.checkIdentifier(event.imageID, "image_id")
        switch (event.inline, event.uri) {
        case (nil, nil), (.some, .some):
            throw EventError(.invalidField, "exactly one of \"inline\" and \"uri\" must be given")
        case (let inline?, nil):
            // Base64 is 4/3 of the bytes it carries.
            guard inline.utf8.count / 4 * 3 <= maxInlineImageBytes else {
                throw EventError(.payloadTooLarge, "inline image exceeds the bound of \(maxInlineImageBytes) bytes")
            }
        case (nil, let uri?):
            guard !uri.isEmpty, uri.utf8.count <= 4096 else { throw EventError(.invalidField, "\"uri\" is empty or too long") }
        }
        for (name, value) in event.labels ?? [:] {
            try Self.checkIdentifier(name, "labels key")
            guard value == 0 || value == 1 else {
                throw EventError(.invalidField, "label \"\(name)\" must be 0 or 1, not \(value)")
            }
        }
    }

    func validate(_ event: ReportEvent) throws(EventError) {
        try Self.checkIdentifier(event.eventID, "event_id")
        try Self.checkIdentifier(event.studyID, "study_id")
        try Self.checkIdentifier(event.reportID, "report_id")
        guard event.body.utf8.count <= ReportReader.maxBytes else {
            throw EventError(.payloadTooLarge, "report body exceeds the bound of \(ReportReader.maxBytes) bytes")
        }
        let allowed: Set = ["positive", "negative", "uncertain", "absent"]
        for (name, value) in event.labels ?? [:] {
            try Self.checkIdentifier(name, "labels key")
            guard allowed.contains(value) else {
                throw EventError(.invalidField, "label \"\(name)\" must be one of \(allowed.sorted()), not \"\(value.prefix(40))\"")
            }
        }
    }

    /// Identifiers end up in SQL rows, Kafka keys and file names: short, printable, no control bytes.
    static func checkIdentifier(_ value: String, _ field: String) throws(EventError) {
        guard !value.isEmpty, value.utf8.count <= 256 else {
            throw EventError(.invalidField, "\"\(field)\" must hold 1 to 256 bytes")
        }
        guard value.unicodeScalars.allSatisfy({ $0.properties.generalCategory != .control }) else {
            throw EventError(.invalidField, "\"\(field)\" holds control characters")
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map(\.stringValue).joined(separator: ".")
    }

    private static func reason(_ error: any Error) -> String {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        return String(text.prefix(200))
    }
}
