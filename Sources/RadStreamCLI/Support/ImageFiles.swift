import Foundation
import TensorEngine

/// The image files of a folder, and reading many of them at once.
enum ImageFiles {
    static let extensions: Set<String> = ["png", "jpg", "jpeg", "dcm"]
    /// Larger files are refused unread, as the daemon refuses them.
    static let maxFileBytes = 256 << 20

    static func list(in folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: requireFolder(folder), includingPropertiesForKeys: nil)
            .filter { extensions.contains($0.pathExtension.lowercased()) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// `transform` of every file's bytes, on every core; a file's failure stays its own.
    static func read<T: Sendable>(_ files: [URL], _ transform: @escaping @Sendable ([UInt8]) throws -> T) -> [Result<T, any Error>] {
        concurrentMap(files.count) { index in
            Result {
                let size = (try FileManager.default.attributesOfItem(atPath: files[index].path)[.size] as? Int) ?? 0
                guard size <= maxFileBytes else { throw CommandFailure("\(size) bytes: larger than \(maxFileBytes >> 20) MiB") }
                return try transform([UInt8](try Data(contentsOf: files[index])))
            }
        }
    }
}
