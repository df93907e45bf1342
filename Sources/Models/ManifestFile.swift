import Foundation

/// A shipped model's `manifest.json`: pretty, sorted keys, so that a retraining shows as a
/// readable diff. Each kind of model has its own manifest type; they are written and read alike.
public enum ManifestFile {
    public static let name = "manifest.json"

    public static func write(_ manifest: some Encodable, to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(manifest)
        data.append(0x0A)
        try data.write(to: directory.appendingPathComponent(name))
    }

    public static func read<Manifest: Decodable>(_ type: Manifest.Type, from directory: URL) throws -> Manifest {
        try JSONDecoder().decode(type, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }
}
