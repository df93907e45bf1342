import Events
import Foundation
import Replay
import Reports

/// The events a benchmark or a drill sends, made from the shared data: IU XML reports (those with
/// text; the few blank ones would measure the dead-letter path) and PneumoniaMNIST PNGs (28×28)
/// inline, cycled. Each index is its own event: its id, study and key are the index's.
public struct SampleEvents: Sendable {
    let reports: [String]
    let images: [String]

    public init(data: URL) throws {
        reports = try ReplaySource.reportFiles(in: data.appending(path: "openi/reports")).prefix(550)
            .map { try String(contentsOf: $0, encoding: .utf8) }
            .filter { (try? ReportReader.sections(of: Array($0.utf8), format: .iuXML)) != nil }
        images = try ReplaySource.imageFiles(in: data.appending(path: "pneumoniamnist/val")).prefix(500)
            .map { try Data(contentsOf: $0).base64EncodedString() }
    }

    public func report(_ index: Int) -> Event {
        .report(ReportEvent(eventID: "r\(index)", studyID: "s\(index)", reportID: "r\(index)", format: .iuXML,
                            body: reports[index % reports.count]))
    }

    public func image(_ index: Int) -> Event {
        .image(ImageEvent(eventID: "i\(index)", studyID: "s\(index)", imageID: "i\(index)", inline: images[index % images.count]))
    }
}
