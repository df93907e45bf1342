import CKafka

/// Told when the group gives this consumer partitions or takes them away. Runs on the thread that
/// polls, inside `poll`, so it may finish in-flight work before partitions leave.
public protocol RebalanceHandler: AnyObject {
    /// Where to resume each partition; see `Assignment`.
    func partitionsAssigned(_ partitions: [TopicPartition]) -> Assignment
    func partitionsRevoked(_ partitions: [TopicPartition])
}

/// What a consumer does with the partitions the group gives it.
public struct Assignment: Sendable, Equatable {
    /// The offset to resume each partition at; a partition left out starts at the group's
    /// committed offset, or the earliest one.
    public var offsets: [TopicPartition: Int64]
    /// Partitions kept by this member but not fetched at all (nobody else gets them either), until
    /// the next rebalance: where consuming would do harm that only a person can judge.
    public var held: Set<TopicPartition>

    public init(offsets: [TopicPartition: Int64], held: Set<TopicPartition> = []) {
        self.offsets = offsets
        self.held = held
    }
}

public enum PollResult {
    case message(KafkaMessage)
    case error(KafkaError)
}

/// A group member. Not thread-safe by design: one thread owns it, polls it and commits through it.
public final class KafkaConsumer {
    private let client: KafkaClient
    private let rebalance: RebalanceBox

    /// `statistics` hears librdkafka's statistics (a JSON document, every `statistics.interval.ms`
    /// when that property is set) on the polling thread.
    public init(configuration: KafkaConfiguration, handler: (any RebalanceHandler)?,
                statistics: ((String) -> Void)? = nil) throws(KafkaError) {
        var configuration = configuration
        // Offsets are stored by RadStream (in PostgreSQL) and committed to Kafka only for lag
        // monitoring, explicitly, after each batch.
        configuration["enable.auto.commit"] = "false"
        configuration["enable.auto.offset.store"] = "false"
        if configuration["auto.offset.reset"] == nil { configuration["auto.offset.reset"] = "earliest" }
        // librdkafka prefetches up to 64 MB per consumer by default; a batch is at most a few MB.
        if configuration["queued.max.messages.kbytes"] == nil { configuration["queued.max.messages.kbytes"] = "16384" }
        let conf = try configuration.makeConf()
        let box = RebalanceBox(handler: handler, statistics: statistics)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(box).toOpaque())
        if statistics != nil {
            rd_kafka_conf_set_stats_cb(conf) { _, json, length, opaque in
                guard let json, let opaque else { return 0 }
                let text = String(decoding: UnsafeRawBufferPointer(start: json, count: length), as: UTF8.self)
                Unmanaged<RebalanceBox>.fromOpaque(opaque).takeUnretainedValue().statistics?(text)
                return 0  // librdkafka frees the document
            }
        }
        rd_kafka_conf_set_rebalance_cb(conf) { handle, code, partitions, opaque in
            guard let handle, let opaque else { return }
            Unmanaged<RebalanceBox>.fromOpaque(opaque).takeUnretainedValue().rebalance(handle, code, partitions)
        }
        client = try KafkaClient(type: RD_KAFKA_CONSUMER, conf: conf)
        rebalance = box
        rd_kafka_poll_set_consumer(client.handle)
    }

    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = PartitionList(topics.map { TopicPartition($0, RD_KAFKA_PARTITION_UA) })
        let code = rd_kafka_subscribe(client.handle, list.pointer)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code, context: "subscribe") }
    }

    /// The next record, an error the application should know of, or nil when none came in time.
    public func poll(timeout: Duration) -> PollResult? {
        guard let message = rd_kafka_consumer_poll(client.handle, timeout.kafkaMilliseconds) else { return nil }
        defer { rd_kafka_message_destroy(message) }
        let code = message.pointee.err
        if code == RD_KAFKA_RESP_ERR_NO_ERROR { return .message(KafkaMessage(copying: message)) }
        if code == RD_KAFKA_RESP_ERR__PARTITION_EOF { return nil }
        return .error(KafkaError(code, context: "consume"))
    }

    /// Commits the next offsets to read, asynchronously; Kafka's copy only feeds lag monitoring.
    public func commit(_ offsets: [TopicPartition: Int64]) {
        guard !offsets.isEmpty else { return }
        let list = PartitionList(Array(offsets.keys))
        list.setOffsets(offsets)
        _ = rd_kafka_commit(client.handle, list.pointer, 1)
    }

    /// Records between this consumer's position and the end of each assigned partition.
    public func lag() -> [TopicPartition: Int64] {
        var assigned: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(client.handle, &assigned) == RD_KAFKA_RESP_ERR_NO_ERROR, let assigned else { return [:] }
        let list = PartitionList(adopting: assigned)
        _ = rd_kafka_position(client.handle, list.pointer)
        var lags: [TopicPartition: Int64] = [:]
        for (partition, position) in list.offsets() {
            var low: Int64 = 0, high: Int64 = 0
            guard rd_kafka_get_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high)
                    == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { continue }
            lags[partition] = max(0, high - (position >= 0 ? position : low))
        }
        return lags
    }

    /// The first offset and the offset past the last record of `partition`, asked of its leader.
    public func watermarks(of partition: TopicPartition, timeout: Duration) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = 0, high: Int64 = 0
        let code = rd_kafka_query_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high, timeout.kafkaMilliseconds)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code, context: "watermarks of \(partition)") }
        return (low, high)
    }

    /// Leaves the group (the revoke handler runs first), so partitions move on at once.
    public func close() {
        _ = rd_kafka_consumer_close(client.handle)
    }
}

/// Bridges librdkafka's rebalance callback to the handler; retained by the consumer.
private final class RebalanceBox {
    weak var handler: (any RebalanceHandler)?
    let statistics: ((String) -> Void)?

    init(handler: (any RebalanceHandler)?, statistics: ((String) -> Void)?) {
        self.handler = handler
        self.statistics = statistics
    }

    func rebalance(_ handle: OpaquePointer, _ code: rd_kafka_resp_err_t,
                   _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        let list = partitions.map(PartitionList.init(borrowing:))
        switch code {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            guard let list, let handler else {
                rd_kafka_assign(handle, partitions)
                return
            }
            let assignment = handler.partitionsAssigned(list.partitions())
            // Held partitions are left out of the assignment, so librdkafka never fetches them
            // (nor resets their offsets); the group still counts them as this member's.
            let fetched = PartitionList(list.partitions().filter { !assignment.held.contains($0) })
            fetched.setOffsets(assignment.offsets)
            rd_kafka_assign(handle, fetched.pointer)
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            if let list { handler?.partitionsRevoked(list.partitions()) }
            rd_kafka_assign(handle, nil)
        default:
            rd_kafka_assign(handle, nil)
        }
    }
}
