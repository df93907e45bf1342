import Events
import Foundation
import TestSupport
import Testing
@testable import Replay

@Suite("Files become the hospital's events")
struct ReplaySourceTests {
    static let data = TestData.root

    /// IU study 1000's image travels with its own report: the same study id, hence the same key.
    @Test func iuImageJoinsItsReportsStudy() throws {
        let source = ReplaySource()
        guard case .report(let report) = try source.reportEvent(file: Self.data.appending(path: "openi/reports/1000.xml")),
              case .image(let image) = try source.imageEvent(file: Self.data.appending(path: "samples/iu_1000_IM-0003-2001.png"), labels: nil)
        else { Issue.record("wrong event kinds"); return }
        #expect(report.studyID == "1000" && report.format == .iuXML)
        #expect(image.studyID == "1000")
        // 1.9 MB is over the inline limit: it travels by URI.
        #expect(image.inline == nil && image.uri?.hasPrefix("file:///") == true)
        #expect(ReplaySource.studyID(ofImage: "val_00001", folder: "val") == "img-val-val_00001")
    }

    /// A folder given to the replay is the folder: a link out of it (to a file, or a folder) is
    /// not followed, though a link that stays inside is.
    @Test func linksOutOfTheFolderAreNotReplayed() throws {
        let manager = FileManager.default
        let base = manager.temporaryDirectory.appending(path: "replay-links-\(UUID().uuidString)")
        let folder = base.appending(path: "folder"), outside = base.appending(path: "outside")
        try manager.createDirectory(at: folder.appending(path: "sub"), withIntermediateDirectories: true)
        try manager.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? manager.removeItem(at: base) }
        let png = Self.data.appending(path: "pneumoniamnist/val/val_00000.png")
        for target in [folder.appending(path: "a.png"), folder.appending(path: "sub/b.png"), outside.appending(path: "secret.png")] {
            try manager.copyItem(at: png, to: target)
        }
        try manager.createSymbolicLink(at: folder.appending(path: "escape.png"), withDestinationURL: outside.appending(path: "secret.png"))
        try manager.createSymbolicLink(at: folder.appending(path: "escaped-folder"), withDestinationURL: outside)
        try manager.createSymbolicLink(at: folder.appending(path: "alias.png"), withDestinationURL: folder.appending(path: "a.png"))
        try manager.createSymbolicLink(at: folder.appending(path: "report.xml"), withDestinationURL: Self.data.appending(path: "openi/reports/1000.xml"))

        let images = try ReplaySource.imageFiles(in: folder).map(\.lastPathComponent)
        #expect(images == ["a.png", "alias.png", "b.png"])
        #expect(try ReplaySource.reportFiles(in: folder).isEmpty)
    }

    @Test func labelsComeFromLabelsCSVUnlessWithheld() throws {
        let folder = Self.data.appending(path: "pneumoniamnist/val")
        let labels = ReplaySource.labels(in: folder)
        #expect(labels.count == 524)
        #expect(labels.values.allSatisfy { $0.keys.sorted() == ["pneumonia"] })
        let file = folder.appending(path: "val_00000.png")
        guard case .image(let labelled) = try ReplaySource().imageEvent(file: file, labels: labels["val_00000.png"]),
              case .image(let withheld) = try ReplaySource(withholdLabels: true).imageEvent(file: file, labels: labels["val_00000.png"])
        else { Issue.record("not images"); return }
        #expect(labelled.labels == labels["val_00000.png"] && labelled.inline != nil)
        #expect(withheld.labels == nil)
    }

    @Test func listsOnlyReportAndImageFiles() throws {
        let reports = try ReplaySource.reportFiles(in: Self.data.appending(path: "openi/reports"))
        #expect(reports.count == 3362 && reports.allSatisfy { $0.pathExtension == "xml" })
        let images = try ReplaySource.imageFiles(in: Self.data.appending(path: "pneumoniamnist"))
        #expect(images.count == 4690 + 524)
        #expect(throws: (any Error).self) { try ReplaySource.imageFiles(in: URL(filePath: "/nonexistent")) }
    }
}
