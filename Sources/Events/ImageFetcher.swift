import Foundation

/// Gets an image event's bytes: decodes inline base64, or reads a `file://` URI that lies under
/// one of the allowed roots once every `..` and symbolic link is resolved.
public struct ImageFetcher: Sendable {
    public let allowedRoots: [String]
    public let maxFileBytes: Int

    /// Roots are resolved once here, so a root that is itself a symbolic link still matches.
    public init(allowedRoots: [String], maxFileBytes: Int = 64 << 20) {
        self.allowedRoots = allowedRoots.map { Self.resolved($0) }
        self.maxFileBytes = maxFileBytes
    }

    public func bytes(of event: ImageEvent) throws(EventError) -> [UInt8] {
        if let inline = event.inline {
            guard let data = Data(base64Encoded: inline, options: .ignoreUnknownCharacters) else {
                throw EventError(.invalidField, "\"inline\" is not valid base64")
            }
            return Array(data)
        }
        guard let uri = event.uri else { throw EventError(.invalidField, "no image source") }
        let path = try allowedPath(for: uri)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? Int else {
            throw EventError(.sourceUnreadable, "cannot read \(uri)")
        }
        guard size <= maxFileBytes else {
            throw EventError(.payloadTooLarge, "\(uri) is \(size) bytes, over the bound of \(maxFileBytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EventError(.sourceUnreadable, "cannot read \(uri)")
        }
        return Array(data)
    }

    /// The real path a URI names, if it is a local file under an allowed root.
    public func allowedPath(for uri: String) throws(EventError) -> String {
        guard let url = URL(string: uri), url.scheme == "file" else {
            throw EventError(.sourceRefused, "only file:// URIs are accepted, not \"\(uri.prefix(120))\"")
        }
        guard url.host == nil || url.host == "" || url.host == "localhost" else {
            throw EventError(.sourceRefused, "file URI names a remote host: \(uri.prefix(120))")
        }
        let path = url.path(percentEncoded: false)
        guard path.hasPrefix("/"), !path.contains("\0") else {
            throw EventError(.sourceRefused, "file URI must hold an absolute path")
        }
        let real = Self.resolved(path)
        guard allowedRoots.contains(where: { real == $0 || real.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
            throw EventError(.sourceRefused, "\(path.prefix(200)) is outside the allowed image roots")
        }
        return real
    }

    /// The canonical absolute path: `..` removed and symbolic links followed, as the kernel would.
    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else {
            return URL(filePath: path).standardizedFileURL.path(percentEncoded: false)
        }
        defer { free(real) }
        return String(cString: real)
    }
}
