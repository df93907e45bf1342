import CKafka

/// librdkafka's mock cluster: real Kafka brokers speaking the wire protocol on loopback TCP,
/// kept in memory by this process. Any Kafka client reaches them through `bootstrapServers`.
///
/// `@unchecked Sendable`: the cluster runs on its own threads; this object only holds handles.
public final class EmbeddedBroker: @unchecked Sendable {
    private let client: KafkaClient
    private let cluster: OpaquePointer
    public let bootstrapServers: String

    public init(brokers: Int = 3) throws(KafkaError) {
        // The mock cluster hangs off a client handle; a producer is the lightest one.
        let conf = try KafkaConfiguration(["log_level": "3"]).makeConf()
        client = try KafkaClient(type: RD_KAFKA_PRODUCER, conf: conf)
        guard let cluster = rd_kafka_mock_cluster_new(client.handle, Int32(brokers)) else {
            throw KafkaError("rd_kafka_mock_cluster_new failed")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        let code = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code, context: "create topic \(name)") }
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
    }
}
