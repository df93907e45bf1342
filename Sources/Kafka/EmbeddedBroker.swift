import CKafka

/// librdkafka's mock cluster: real Kafka brokers speaking the wire protocol on loopback TCP,
/// kept in memory by this process. Any Kafka client reaches them through `bootstrapServers`.
///
/// `@unchecked Sendable`: the cluster runs on its own threads; this object only holds handles.
public final class EmbeddedBroker: @unchecked Sendable {
    private let client: KafkaClient
    private let cluster: OpaquePointer
    public let bootstrapServers: String
    private let brokerCount: Int

    public init(brokers: Int = 3) throws(KafkaError) {
        brokerCount = brokers
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

    // MARK: Faults, as a real cluster has them (the mock cluster's own injection)

    /// Brokers are numbered from 1.
    public var brokerIDs: ClosedRange<Int32> { 1...Int32(brokerCount) }

    /// Moves a partition's leadership to `broker`, or leaves it without a leader (nil).
    public func setLeader(of topic: String, partition: Int32, to broker: Int32?) throws(KafkaError) {
        let code = rd_kafka_mock_partition_set_leader(cluster, topic, partition, broker ?? -1)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code, context: "set leader of \(topic)[\(partition)]") }
    }

    /// Disconnects a broker and refuses its connections (its partitions keep it as leader), or
    /// lets it accept them again.
    public func setBroker(_ broker: Int32, up: Bool) throws(KafkaError) {
        let code = up ? rd_kafka_mock_broker_set_up(cluster, broker) : rd_kafka_mock_broker_set_down(cluster, broker)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code, context: "set broker \(broker) \(up ? "up" : "down")") }
    }

    /// Kafka protocol requests, by their API key.
    public enum Request: Int16, Sendable { case produce = 0, fetch = 1, listOffsets = 2, metadata = 3, offsetCommit = 8, heartbeat = 12 }

    /// The next `errors.count` requests of that kind, whichever client sends them, fail with
    /// these errors in turn (librdkafka codes, e.g. 6 NOT_LEADER_OR_FOLLOWER, 7 REQUEST_TIMED_OUT).
    public func failNext(_ request: Request, with errors: [Int32]) {
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        codes.withUnsafeBufferPointer { rd_kafka_mock_push_request_errors_array(cluster, request.rawValue, codes.count, $0.baseAddress) }
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
    }
}
