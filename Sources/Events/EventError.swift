/// Why an event was refused. Every refusal becomes a dead letter carrying `code` and `message`.
public struct EventError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case malformedJSON = "malformed_json"
        case unknownSchema = "unknown_schema"
        case invalidField = "invalid_field"
        case payloadTooLarge = "payload_too_large"
        case sourceRefused = "source_refused"
        case sourceUnreadable = "source_unreadable"
        case imageUndecodable = "image_undecodable"
        case reportUnreadable = "report_unreadable"
        /// A report read without fault whose every section is blank.
        case reportEmpty = "report_empty"
        case processingFailed = "processing_failed"
        /// Processing it crashed or hung the daemon as many times as allowed: not tried again.
        case quarantined
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
