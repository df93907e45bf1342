import Events
import Foundation
import Kafka
import Synchronization

/// The hospital's side of the drill: events at a steady rate on a thread of its own, through
/// whatever the faults do to the cluster (librdkafka buffers and retries), every `badEvery`-th a
/// malformed record that must end as a dead letter.
final class DrillPublisher: Sendable {
    struct Counts: Sendable { var good = 0, bad = 0 }

    private let counts = Mutex(Counts())
    private let stopRequested = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    var sent: Counts { counts.withLock { $0 } }

    /// Event ids are the index's: `r<n>` (reports, even n) and `i<n>` (images, odd n).
    init(producer: KafkaProducer, events: SampleEvents, imageTopic: String, reportTopic: String, rate: Double, badEvery: Int) {
        Thread.detachNewThread { [self] in
            let started = ContinuousClock.now
            var index = 0
            while !stopRequested.withLock({ $0 }) {
                let isReport = index % 2 == 0
                let topic = isReport ? reportTopic : imageTopic
                do {
                    if index % badEvery == badEvery - 1 {
                        try producer.send(topic: topic, key: Array("bad-\(index)".utf8), value: Array(#"{"schema": "radstream.image.v1", "#.utf8))
                        counts.withLock { $0.bad += 1 }
                    } else {
                        let event = isReport ? events.report(index) : events.image(index)
                        try producer.send(topic: topic, key: Array(event.studyID.utf8), value: event.encoded())
                        counts.withLock { $0.good += 1 }
                    }
                } catch {
                    FileHandle.standardError.write(Data("drill: cannot publish event \(index): \(error)\n".utf8))
                }
                index += 1
                let wait = started + .seconds(Double(index) / rate) - ContinuousClock.now
                if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.components.attoseconds) / 1e18 + Double(wait.components.seconds)) }
            }
            try? producer.flush(timeout: .seconds(120))
            finished.signal()
        }
    }

    /// Stops publishing and waits until what was sent is on the broker (or two minutes passed).
    func stop() {
        stopRequested.withLock { $0 = true }
        finished.wait()
    }
}
