import Events
import Kafka

/// The gateway's Kafka producer: every event is acknowledged by the cluster (acks=all,
/// idempotent) before the caller answers its sender; refused HL7 messages go to the report
/// topic's dead-letter topic as the daemon's dead letters do (the bytes as received, the reason
/// in headers).
final class GatewayPublisher: Sendable {
    let imageTopic: String
    let reportTopic: String
    let deadLetterTopic: String
    private let producer: KafkaProducer

    init(configuration: KafkaConfiguration, imageTopic: String, reportTopic: String, deadLetterTopic: String,
         acknowledgementSeconds: Int) throws(KafkaError) {
        var configuration = configuration
        configuration["acks"] = "all"
        configuration["enable.idempotence"] = "true"
        if configuration["message.timeout.ms"] == nil { configuration["message.timeout.ms"] = String(acknowledgementSeconds * 1000) }
        // A sender waits for each record: the 5 ms librdkafka lingers to fill a batch would be
        // added to every answer. Concurrent associations still share batches.
        if configuration["linger.ms"] == nil { configuration["linger.ms"] = "0" }
        producer = try KafkaProducer(configuration: configuration)
        self.imageTopic = imageTopic
        self.reportTopic = reportTopic
        self.deadLetterTopic = deadLetterTopic
    }

    /// Returns once the event is on Kafka, keyed by its study.
    func publish(_ event: Event) throws(KafkaError) {
        let topic: String
        switch event {
        case .image: topic = imageTopic
        case .report: topic = reportTopic
        }
        try producer.publish(topic: topic, key: Array(event.studyID.utf8), value: event.encoded(),
                             headers: [("radstream.origin", Array("gateway".utf8))])
    }

    /// A message refused at the door, kept where the daemon keeps its dead letters.
    func deadLetter(_ raw: [UInt8], code: String, reason: String, peer: String) throws(KafkaError) {
        try producer.publish(topic: deadLetterTopic, key: nil, value: raw, headers: [
            ("radstream.origin", Array("gateway".utf8)),
            ("radstream.origin.peer", Array(peer.utf8)),
            ("radstream.error.code", Array(code.utf8)),
            ("radstream.error.message", Array(reason.prefix(1000).utf8)),
        ])
    }
}
