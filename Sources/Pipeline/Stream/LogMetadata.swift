import Kafka
import Logging

// What the daemon's log lines say about a record, as metadata rather than inside the message:
// a JSON log keeps them as fields, so an operator can filter by partition or offset.

extension EventSource {
    /// The record's topic, partition and offset, and its key (the study, by the producers' convention).
    var logMetadata: Logger.Metadata {
        var metadata: Logger.Metadata = ["topic": "\(topic)", "partition": "\(partition)", "offset": "\(offset)"]
        if let key { metadata["study_id"] = "\(key)" }
        return metadata
    }
}

extension KafkaMessage {
    var logMetadata: Logger.Metadata { EventSource(self).logMetadata }
}

extension TopicPartition {
    var logMetadata: Logger.Metadata { ["topic": "\(topic)", "partition": "\(partition)"] }
}
