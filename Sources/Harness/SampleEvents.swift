import Events
import Foundation
import Replay
import Reports

/// The events a benchmark or a drill sends, made from the shared data: every IU XML report with
/// text (the few blank ones would measure the dead-letter path), so that up to some 3,300 report
/// events no findings text repeats but where IU's own reports repeat each other (the summarizer
/// memoises by the findings' words, and a benchmark that cycled a few hundred reports would
/// measure its memo), and PneumoniaMNIST PNGs (28×28) inline; both cycled. Each index is its own
/// event: its id, study and key are the index's.
public struct SampleEvents: Sendable {
    let reports: [String]
    let images: [String]

    public init(data: URL) throws {
        reports = try ReplaySource.reportFiles(in: data.appending(path: "openi/reports"))
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
