/// A statement parameter. Everything travels in text format except `bytea`, which is sent
/// binary so that pixels are not hex-encoded on the way.
public enum PostgresValue: Sendable, Equatable {
    case text(String)
    case int(Int64)
    case bytea([UInt8])
    case null

    public static func int(_ value: Int) -> PostgresValue { .int(Int64(value)) }
    public static func int(_ value: Int32) -> PostgresValue { .int(Int64(value)) }
    public static func optional(_ value: String?) -> PostgresValue { value.map(PostgresValue.text) ?? .null }
}

/// The rows of a result, as text (PostgreSQL's text output format).
public struct PostgresRows: Sendable {
    public let columns: [String]
    public let rows: [[String?]]
    /// Rows changed by an INSERT, UPDATE or DELETE.
    public let affected: Int

    public var count: Int { rows.count }

    /// The first column of the first row, for `SELECT count(*)` and the like.
    public var scalar: String? { rows.first?.first ?? nil }
    public var scalarInt: Int? { scalar.flatMap { Int($0) } }
}

extension PostgresRows {
    /// A `bytea` value as PostgreSQL's text format gives it (`\x` and two hex digits per byte),
    /// decoded; nil for NULL or anything else.
    public static func bytes(_ text: String?) -> [UInt8]? {
        guard let text, text.hasPrefix("\\x"), text.utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count / 2 - 1)
        var high: UInt8?
        for character in text.utf8.dropFirst(2) {
            let digit: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = character - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | digit)
                high = nil
            } else {
                high = digit
            }
        }
        return bytes
    }
}
