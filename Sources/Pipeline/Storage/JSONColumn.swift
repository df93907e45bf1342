import Foundation

/// How the stream's results are written to json and jsonb columns: keys sorted, so that the same
/// value is always the same text; a value JSON cannot hold (a NaN) is written as null.
enum JSONColumn {
    static func text<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}
