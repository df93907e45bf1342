import ArgumentParser
import Events
import Foundation
import Kafka
import Pipeline
import Replay

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Publish folders of reports and images as a hospital's event stream (also the load generator).",
        discussion: """
            Reports (*.xml IU/OpenI, *.txt) become report events keyed by study id (the file stem). \
            Images (*.png, *.jpg, *.dcm, searched recursively) become image events: inline when small, \
            by file:// URI otherwise (the daemon must allow their folder: images.allowedRoots). \
            A labels.csv beside images (file,<label>...) gives their labels unless --withhold-labels.

            Example: radstream replay --images ../shared/data/pneumoniamnist/val --reports ../shared/data/openi/reports --rate 200
            """)

    @OptionGroup var options: ConfigurationOptions
    @Option(help: "Folder of images.") var images: String?
    @Option(help: "Folder of reports.") var reports: String?
    @Option(help: "Events per second (default: as fast as the broker takes them).") var rate: Double?
    @Option(help: "Kafka bootstrap servers; overrides the configuration.") var bootstrap: String?
    @Option(help: "How images travel: auto, inline or uri.") var transport: ReplaySource.Transport = .auto
    @Option(help: "Largest image sent inline by 'auto', in bytes.") var inlineLimit = 64 * 1024
    @Flag(help: "Send images without their labels (unlabeled, as self-training expects).") var withholdLabels = false
    @Option(help: "Send at most this many reports and this many images.") var limit: Int?

    func validate() throws {
        if images == nil && reports == nil { throw ValidationError("give --images, --reports or both") }
    }

    func run() throws {
        var configuration = try options.load()
        if let bootstrap { configuration.kafka.bootstrapServers = bootstrap }
        var kafka = configuration.kafka.properties
        kafka["bootstrap.servers"] = configuration.kafka.bootstrapServers
        let replayer = Replayer(producer: try KafkaProducer(configuration: KafkaConfiguration(kafka)),
                                imageTopic: configuration.kafka.imageTopic, reportTopic: configuration.kafka.reportTopic,
                                rate: rate)
        let source = ReplaySource(transport: transport, inlineLimit: inlineLimit, withholdLabels: withholdLabels)
        let summary = try ReplayPlan(source: source, images: images.map { URL(filePath: $0) },
                                     reports: reports.map { URL(filePath: $0) }, limit: limit)
            .publish(through: replayer, progress: { ProgressLine.show("replay: \($0) events sent") })
        ProgressLine.finish("replay: \(summary.reports) reports and \(summary.images) images sent (\(summary.unreadable) files unreadable)")
    }
}

/// What a replay sends, in order: reports first, then images.
struct ReplayPlan {
    let source: ReplaySource
    let images: URL?
    let reports: URL?
    let limit: Int?

    struct Summary { var reports = 0, images = 0, unreadable = 0 }

    func publish(through replayer: Replayer, progress: (Int) -> Void) throws -> Summary {
        var summary = Summary()
        if let reports {
            for file in try ReplaySource.reportFiles(in: reports).prefix(limit ?? .max) {
                do { try replayer.publish(try source.reportEvent(file: file)) } catch let error as KafkaError { throw error } catch {
                    summary.unreadable += 1
                    continue
                }
                summary.reports += 1
                if replayer.sent % 500 == 0 { progress(replayer.sent) }
            }
        }
        if let images {
            var labelsByFolder: [URL: [String: [String: Int]]] = [:]
            for file in try ReplaySource.imageFiles(in: images).prefix(limit ?? .max) {
                let folder = file.deletingLastPathComponent()
                if labelsByFolder[folder] == nil { labelsByFolder[folder] = ReplaySource.labels(in: folder) }
                do {
                    try replayer.publish(try source.imageEvent(file: file, labels: labelsByFolder[folder]?[file.lastPathComponent]))
                } catch let error as KafkaError { throw error } catch {
                    summary.unreadable += 1
                    continue
                }
                summary.images += 1
                if replayer.sent % 500 == 0 { progress(replayer.sent) }
            }
        }
        try replayer.finish()
        return summary
    }
}

extension ReplaySource.Transport: ExpressibleByArgument {}
