/// The encodings RadStream reads, recognised by their leading bytes, never by a file name.
public enum ImageFormat: String, Sendable, CaseIterable {
    case png
    case jpeg
    case dicom

    public static func sniff(_ bytes: some Collection<UInt8>) -> ImageFormat? {
        let head = Array(bytes.prefix(132))
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if head.count == 132 && Array(head[128..<132]) == Array("DICM".utf8) { return .dicom }
        return nil
    }
}
