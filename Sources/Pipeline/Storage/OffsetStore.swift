import Kafka
import Postgres

/// Reads the offsets the consumer resumes from. PostgreSQL, not Kafka, is their source of truth:
/// a partition with no row has had nothing processed and starts at its beginning.
public struct OffsetStore {
    public let group: String

    public init(group: String) {
        self.group = group
    }

    /// librdkafka's "beginning of the partition" logical offset.
    public static let beginning: Int64 = -2

    /// The next offset to read of each partition that has a row; partitions without one are left out.
    public func storedOffsets(for partitions: [TopicPartition], on connection: PostgresConnection) throws -> [TopicPartition: Int64] {
        var offsets: [TopicPartition: Int64] = [:]
        for partition in partitions {
            let rows = try connection.execute("""
                SELECT next_offset FROM consumer_offsets WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3
                """, [.text(group), .text(partition.topic), .int(partition.partition)])
            if let offset = rows.scalar.flatMap({ Int64($0) }) { offsets[partition] = offset }
        }
        return offsets
    }

    /// Sets a partition's next offset outright — lower too, unlike a batch's commit, which only
    /// moves it forward: for a partition whose log was replaced (a topic deleted and created again).
    public func reset(_ partition: TopicPartition, to offset: Int64, on connection: PostgresConnection) throws {
        try connection.execute("""
            UPDATE consumer_offsets SET next_offset = $4, updated_at = now()
            WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3
            """, [.text(group), .text(partition.topic), .int(partition.partition), .int(offset)])
    }
}
