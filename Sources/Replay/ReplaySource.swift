import Events
import Foundation
import Reports

/// The events a folder of files becomes, as a hospital's stream would carry them.
///
/// Reports: every `*.xml` (IU/OpenI) and `*.txt` file is a report event keyed by its study id,
/// the file stem. Images: every `*.png`, `*.jpg`, `*.jpeg` and `*.dcm` below the folder is an image
/// event. An IU image named `iu_<study>_…` belongs to that study (IU study 1000's image travels
/// with its own report); any other image is a study of its own. A `labels.csv` (`file,<label>…`)
/// beside images gives their labels, unless labels are withheld.
public struct ReplaySource: Sendable {
    public enum Transport: String, Sendable, CaseIterable {
        /// Inline when the file is at most `inlineLimit` bytes, otherwise by `file://` URI.
        case auto, inline, uri
    }

    public var transport: Transport = .auto
    public var inlineLimit = 64 * 1024
    public var withholdLabels = false

    public init(transport: Transport = .auto, inlineLimit: Int = 64 * 1024, withholdLabels: Bool = false) {
        self.transport = transport
        self.inlineLimit = inlineLimit
        self.withholdLabels = withholdLabels
    }

    public static let reportExtensions: Set = ["xml", "txt"]
    public static let imageExtensions: Set = ["png", "jpg", "jpeg", "dcm"]

    /// Report files of a folder, in name order.
    public static func reportFiles(in directory: URL) throws -> [URL] {
        try files(in: directory, recursive: false, extensions: reportExtensions)
    }

    /// Image files of a folder and its subfolders, in path order.
    public static func imageFiles(in directory: URL) throws -> [URL] {
        try files(in: directory, recursive: true, extensions: imageExtensions)
    }

    public func reportEvent(file: URL) throws -> Event {
        let stem = file.deletingPathExtension().lastPathComponent
        let body = try String(contentsOf: file, encoding: .utf8)
        return .report(ReportEvent(eventID: "report-\(stem)", studyID: stem, reportID: stem,
                                   format: ReportFormat(fileName: file.lastPathComponent), body: body,
                                   producedAt: Self.now()))
    }

    public func imageEvent(file: URL, labels: [String: Int]?) throws -> Event {
        let stem = file.deletingPathExtension().lastPathComponent
        let size = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        let inline = transport == .inline || (transport == .auto && size <= inlineLimit)
        let folder = file.deletingLastPathComponent().lastPathComponent
        var event = ImageEvent(eventID: "image-\(folder)-\(stem)", studyID: Self.studyID(ofImage: stem, folder: folder),
                               imageID: "\(folder)/\(stem)", labels: withholdLabels ? nil : labels, producedAt: Self.now())
        if inline {
            event.inline = try Data(contentsOf: file).base64EncodedString()
        } else {
            event.uri = file.standardizedFileURL.absoluteString
        }
        return .image(event)
    }

    /// `iu_1000_IM-0003-2001` belongs to IU study 1000; anything else is a study of its own.
    static func studyID(ofImage stem: String, folder: String) -> String {
        let parts = stem.split(separator: "_")
        if parts.count >= 3, parts[0] == "iu", Int(parts[1]) != nil { return String(parts[1]) }
        return "img-\(folder)-\(stem)"
    }

    /// `labels.csv` of a folder: `file,<name>[,<name>…]` with 0/1 values.
    public static func labels(in directory: URL) -> [String: [String: Int]] {
        guard let text = try? String(contentsOf: directory.appending(path: "labels.csv"), encoding: .utf8) else { return [:] }
        var lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",").map(String.init) }
        guard !lines.isEmpty else { return [:] }
        let header = lines.removeFirst()
        var result: [String: [String: Int]] = [:]
        for fields in lines where fields.count == header.count {
            var labels: [String: Int] = [:]
            for (name, value) in zip(header.dropFirst(), fields.dropFirst()) { if let value = Int(value) { labels[name] = value } }
            result[fields[0]] = labels
        }
        return result
    }

    private static func files(in directory: URL, recursive: Bool, extensions: Set<String>) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: directory.path,
                                                        NSLocalizedDescriptionKey: "\(directory.path) is not a folder"])
        }
        let keys: [URLResourceKey] = [.isRegularFileKey]
        let found: [URL]
        if recursive {
            let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: keys)
            found = (enumerator?.allObjects as? [URL]) ?? []
        } else {
            found = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: keys)
        }
        // A symbolic link that leads out of the folder is not the folder's: replaying it would
        // publish (inline) a file the user never pointed at.
        let inside = directory.resolvingSymlinksInPath().path + "/"
        return found.filter { extensions.contains($0.pathExtension.lowercased()) }
            .filter { $0.resolvingSymlinksInPath().path.hasPrefix(inside) }
            .sorted { $0.path.localizedStandardCompare($1.path) == .orderedAscending }
    }

    private static func now() -> String {
        ISO8601DateFormatter().string(from: Date())
    }
}
