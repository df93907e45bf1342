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

    public func resumeOffsets(for partitions: [TopicPartition], on connection: PostgresConnection) throws -> [TopicPartition: Int64] {
        var offsets: [TopicPartition: Int64] = [:]
        for partition in partitions {
            let rows = try connection.execute("""
                SELECT next_offset FROM consumer_offsets WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3
                """, [.text(group), .text(partition.topic), .int(partition.partition)])
            offsets[partition] = rows.scalar.flatMap { Int64($0) } ?? Self.beginning
        }
        return offsets
    }
}
