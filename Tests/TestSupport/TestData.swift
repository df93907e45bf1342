import Foundation

/// Where the tests find the shared data (`../shared/data` beside the project, or
/// `RADSTREAM_DATA`) and the package itself.
public enum TestData {
    public static let packageRoot = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../..").standardized

    public static var root: URL {
        ProcessInfo.processInfo.environment["RADSTREAM_DATA"].map { URL(filePath: $0) }
            ?? packageRoot.appending(path: "../shared/data").standardized
    }

    /// The text of every `stride`-th IU report file (in name order) as it is on disk, XML and all:
    /// real text to hold a fast path of text handling to its plain one.
    public static func iuReportFiles(every stride: Int) throws -> [String] {
        let folder = root.appending(path: "openi/reports")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().enumerated()
            .filter { $0.offset % stride == 0 }.map { try String(contentsOf: folder.appending(path: $0.element), encoding: .utf8) }
    }
}
