import Foundation
import Testing
@testable import Events

@Suite("Image sources: inline and file:// under the allowed roots")
struct ImageFetcherTests {
    let root: URL
    let fetcher: ImageFetcher

    init() throws {
        root = FileManager.default.temporaryDirectory.appending(path: "fetcher-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appending(path: "inner"), withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: root.appending(path: "inner/a.png"))
        try FileManager.default.createSymbolicLink(atPath: root.appending(path: "etc").path, withDestinationPath: "/etc")
        fetcher = ImageFetcher(allowedRoots: [root.path], maxFileBytes: 100)
    }

    func event(uri: String) -> ImageEvent { ImageEvent(eventID: "e", studyID: "s", imageID: "i", uri: uri) }

    @Test func readsInlineAndAllowedFiles() throws {
        #expect(try fetcher.bytes(of: ImageEvent(eventID: "e", studyID: "s", imageID: "i", inline: "AQID")) == [1, 2, 3])
        #expect(try fetcher.bytes(of: event(uri: "file://\(root.path)/inner/a.png")) == [1, 2, 3])
        #expect(try fetcher.bytes(of: event(uri: "file://\(root.path)/inner/../inner/a.png")) == [1, 2, 3])
    }

    @Test(arguments: [
        "file://ROOT/../etc/passwd",
        "file://ROOT/inner/../../etc/passwd",
        "file://ROOT/etc/passwd",             // a symbolic link inside the root that leads out of it
        "file://ROOT%2F..%2F..%2Fetc/passwd",
        "file://otherhost/ROOT/inner/a.png",
        "http://example.org/a.png",
        "ROOT/inner/a.png",
        "file:relative/a.png",
        "file:///etc/passwd",
    ])
    func refusesPathsOutsideTheRoots(_ template: String) {
        let uri = template.replacingOccurrences(of: "ROOT", with: root.path)  // root.path starts with "/"
        let error = #expect(throws: EventError.self) { try fetcher.bytes(of: event(uri: uri)) }
        #expect(error?.code == .sourceRefused, "\(uri): \(error?.message ?? "")")
    }

    @Test func missingAndOversizedFilesAreErrors() throws {
        let missing = #expect(throws: EventError.self) { try fetcher.bytes(of: event(uri: "file://\(root.path)/nope.png")) }
        #expect(missing?.code == .sourceUnreadable)
        try Data(count: 101).write(to: root.appending(path: "big.png"))
        let big = #expect(throws: EventError.self) { try fetcher.bytes(of: event(uri: "file://\(root.path)/big.png")) }
        #expect(big?.code == .payloadTooLarge)
    }
}
