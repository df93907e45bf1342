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
