import Events
import Foundation
import Kafka
import Replay
import Reports

/// Good events made from the shared data: reports from IU XML, images from PneumoniaMNIST
/// PNGs (inline, 28×28), each with a unique event id.
struct EventFactory {
    let reports: [URL]
    let images: [URL]

    init() throws {
        // A few IU reports have every section blank and would be dead letters: keep those with text.
        reports = Array(try ReplaySource.reportFiles(in: Paths.data.appending(path: "openi/reports")).prefix(450).filter {
            (try? ReportReader.sections(of: Array(try Data(contentsOf: $0)), format: .iuXML)) != nil
        }.prefix(400))
        images = Array(try ReplaySource.imageFiles(in: Paths.data.appending(path: "pneumoniamnist/val")).prefix(400))
    }

    /// The `index`-th good event: alternately a report and an image.
    func event(_ index: Int) throws -> Event {
        if index % 2 == 0 {
            let file = reports[(index / 2) % reports.count]
            return .report(ReportEvent(eventID: "event-\(index)", studyID: "study-\(index % 97)", reportID: "report-\(index)",
                                       format: .iuXML, body: try String(contentsOf: file, encoding: .utf8)))
        }
        let file = images[(index / 2) % images.count]
        return .image(ImageEvent(eventID: "event-\(index)", studyID: "study-\(index % 97)", imageID: "image-\(index)",
                                 inline: try Data(contentsOf: file).base64EncodedString(), labels: ["pneumonia": index % 3 == 0 ? 1 : 0]))
    }

    static func producer(for bootstrap: String) throws -> KafkaProducer {
        try KafkaProducer(configuration: KafkaConfiguration(["bootstrap.servers": bootstrap, "linger.ms": "5"]))
    }
}
