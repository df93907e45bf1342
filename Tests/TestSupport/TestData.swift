import Foundation

/// Where the tests find the shared data (`../shared/data` beside the project, or
/// `RADSTREAM_DATA`) and the package itself.
public enum TestData {
    public static let packageRoot = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../..").standardized

    public static var root: URL {
        ProcessInfo.processInfo.environment["RADSTREAM_DATA"].map { URL(filePath: $0) }
            ?? packageRoot.appending(path: "../shared/data").standardized
    }
}
