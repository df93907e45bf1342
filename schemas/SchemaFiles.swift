import Foundation

/// The files of `schemas/`, bundled with the binary: SQL migrations and event JSON Schemas.
public enum SchemaFiles {
    /// `migrations/NNNN_name.sql`, in version order.
    public static func migrations() throws -> [(fileName: String, sql: String)] {
        try files(in: "migrations", withExtension: "sql").map { ($0.fileName, $0.text) }
    }

    /// `events/*.schema.json`, keyed by file name.
    public static func eventSchemas() throws -> [(fileName: String, json: String)] {
        try files(in: "events", withExtension: "json").map { ($0.fileName, $0.text) }
    }

    private static func files(in folder: String, withExtension suffix: String) throws -> [(fileName: String, text: String)] {
        guard let directory = Bundle.module.url(forResource: folder, withExtension: nil) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: folder])
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix("." + suffix) }
            .sorted()
        return try names.map { ($0, try String(contentsOf: directory.appending(path: $0), encoding: .utf8)) }
    }
}
