import ChildProcesses
import Foundation
import Kafka

/// A topic's records as kcat (a Kafka client apart from RadStream's) reads them, from the beginning.
struct TopicRecord {
    let key: String?
    let payload: String
    let headers: [String: String]

    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] }

    static func read(_ topic: String, bootstrap: String) throws -> [TopicRecord] {
        let run = try ChildProcess.run("/usr/bin/kcat", ["-b", bootstrap, "-C", "-t", topic, "-e", "-q", "-J"])
        guard run.status == 0 else { throw TestFailure("kcat on \(topic): \(run.output)") }
        return run.output.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            let flat = object["headers"] as? [String] ?? []
            var headers: [String: String] = [:]
            for index in stride(from: 0, to: flat.count - 1, by: 2) { headers[flat[index]] = flat[index + 1] }
            return TopicRecord(key: object["key"] as? String, payload: object["payload"] as? String ?? "", headers: headers)
        }
    }
}

/// A topic's records byte for byte (an SR is binary), read with RadStream's own consumer in a
/// group of its own from the beginning: at least `count` (unless `timeout` passes first), then
/// whatever else comes before the topic has been quiet for two seconds.
func consumeRecords(_ topic: String, bootstrap: String, count: Int, timeout: Duration = .seconds(30)) throws -> [KafkaMessage] {
    let consumer = try KafkaConsumer(configuration: KafkaConfiguration([
        "bootstrap.servers": bootstrap, "group.id": "test-reader-\(UUID().uuidString)", "auto.offset.reset": "earliest",
        "enable.auto.commit": "false",
    ]), handler: nil)
    defer { consumer.close() }
    try consumer.subscribe([topic])
    var records: [KafkaMessage] = []
    let deadline = ContinuousClock.now + timeout
    var lastRecord = ContinuousClock.now
    while ContinuousClock.now < deadline, records.count < count || ContinuousClock.now - lastRecord < .seconds(2) {
        if case .message(let message) = consumer.poll(timeout: .milliseconds(200)) {
            records.append(message)
            lastRecord = .now
        }
    }
    return records
}
