import CKafka

/// Owns one `rd_kafka_t`. The only place a client is created, so the rule of who frees what is
/// written once: `rd_kafka_new` takes the conf on success; on failure the conf is ours to free.
final class KafkaClient {
    let handle: OpaquePointer

    init(type: rd_kafka_type_t, conf: OpaquePointer) throws(KafkaError) {
        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError("rd_kafka_new: \(KafkaError.text(errorText))")
        }
        self.handle = handle
    }

    deinit {
        rd_kafka_destroy(handle)
    }
}
