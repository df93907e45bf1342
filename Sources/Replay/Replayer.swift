import Events
import Foundation
import Kafka

/// Publishes events to the image and report topics, keyed by study id, at a bounded rate.
/// It is the demo's hospital and the benchmarks' load generator.
public final class Replayer {
    public let producer: KafkaProducer
    public let imageTopic: String
    public let reportTopic: String
    /// Events per second; nil sends as fast as the broker takes them.
    public let rate: Double?
    private let started = ContinuousClock.now
    public private(set) var sent = 0

    public init(producer: KafkaProducer, imageTopic: String, reportTopic: String, rate: Double?) {
        self.producer = producer
        self.imageTopic = imageTopic
        self.reportTopic = reportTopic
        self.rate = rate
    }

    public func publish(_ event: Event) throws {
        try publish(event.encoded(), key: event.studyID, kind: {
            if case .image = event { return .image } else { return .report }
        }())
    }

    /// Publishes raw bytes (a malformed event, say) as if they were an event of `kind`.
    public func publish(_ bytes: [UInt8], key: String?, kind: EventKind) throws {
        try pace()
        try producer.send(topic: kind == .image ? imageTopic : reportTopic, key: key.map { Array($0.utf8) }, value: bytes)
        sent += 1
        if sent % 256 == 0 { producer.poll() }
    }

    /// Waits for every event to be acknowledged by the broker.
    public func finish() throws {
        try producer.flush(timeout: .seconds(60))
    }

    private func pace() throws {
        guard let rate, rate > 0 else { return }
        let due = started + .seconds(Double(sent) / rate)
        let now = ContinuousClock.now
        if due > now { Thread.sleep(forTimeInterval: Double((due - now).components.attoseconds) / 1e18 + Double((due - now).components.seconds)) }
    }
}
