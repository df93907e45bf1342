import Foundation

/// Writes one JSON object per line to a file (or standard output for "-").
final class JSONLinesWriter {
    private let handle: FileHandle
    private let encoder: JSONEncoder

    init(path: String) throws {
        if path == "-" {
            handle = .standardOutput
        } else {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CommandFailure("cannot create \(path)")
            }
            handle = try FileHandle(forWritingTo: URL(filePath: path))
        }
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    func write<T: Encodable>(_ value: T) throws {
        var data = try encoder.encode(value)
        data.append(0x0A)
        handle.write(data)
    }

    func close() throws {
        if handle !== FileHandle.standardOutput { try handle.close() }
    }
}

/// An error whose text is all the user needs.
/// The folder a command reads, or an error that names it.
func requireFolder(_ folder: URL) throws -> URL {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
        throw CommandFailure("\(folder.path) is not a folder")
    }
    return folder
}
