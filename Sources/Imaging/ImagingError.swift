/// Why an image could not be turned into pixels; one error type for the whole module.
public struct ImagingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unknownFormat = "unknown_format"
        case corrupt
        case tooLarge = "too_large"
        case unsupported
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
