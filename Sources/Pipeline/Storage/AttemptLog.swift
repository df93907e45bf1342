import Kafka
import Postgres

/// `processing_attempts`: the offsets a batch covers, recorded before it is processed and
/// deleted by its commit (`ResultWriter` deletes them in the batch's own transaction). What is
/// left covers attempts that never finished — the daemon crashed or hung on them.
public struct AttemptLog {
    public let group: String

    public init(group: String) {
        self.group = group
    }

    /// Where a record sits in Kafka.
    public struct Position: Hashable, Sendable {
        public let partition: TopicPartition
        public let offset: Int64

        public init(_ message: KafkaMessage) {
            partition = message.topicPartition
            offset = message.offset
        }
    }

    /// Records one attempt at `messages`: a row per partition, from its first to its last offset.
    public func record(_ messages: [KafkaMessage], on connection: PostgresConnection) throws {
        let ranges = Self.ranges(of: messages)
        guard !ranges.isEmpty else { return }
        _ = try connection.pipeline(ranges.map { partition, range in
            ("""
             INSERT INTO processing_attempts (consumer_group, topic, kafka_partition, first_offset, last_offset)
             VALUES ($1, $2, $3, $4, $5)
             """, [.text(group), .text(partition.topic), .int(partition.partition), .int(range.lowerBound), .int(range.upperBound)])
        })
    }

    /// For each partition that has unfinished attempts, the highest offset they cover: only at or
    /// below it can a record have been tried before.
    public func lastUnfinishedOffsets(of partitions: [TopicPartition], on connection: PostgresConnection) throws -> [TopicPartition: Int64] {
        let wanted = Set(partitions)
        var offsets: [TopicPartition: Int64] = [:]
        for row in try connection.execute("""
            SELECT topic, kafka_partition, max(last_offset) FROM processing_attempts WHERE consumer_group = $1
            GROUP BY topic, kafka_partition
            """, [.text(group)]).rows {
            guard let topic = row[0], let partition = row[1].flatMap({ Int32($0) }), let last = row[2].flatMap({ Int64($0) }) else { continue }
            if wanted.contains(TopicPartition(topic, partition)) { offsets[TopicPartition(topic, partition)] = last }
        }
        return offsets
    }

    /// For each message, how many unfinished attempts covered its offset; messages never tried are left out.
    public func unfinishedAttempts(at messages: [KafkaMessage], on connection: PostgresConnection) throws -> [Position: Int] {
        let ranges = Self.ranges(of: messages)
        guard !ranges.isEmpty else { return [:] }
        let partitions = Array(ranges.keys)
        let answers = try connection.pipeline(partitions.map { partition in
            ("""
             SELECT first_offset, last_offset FROM processing_attempts
             WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3 AND last_offset >= $4 AND first_offset <= $5
             """, [.text(group), .text(partition.topic), .int(partition.partition),
                   .int(ranges[partition]!.lowerBound), .int(ranges[partition]!.upperBound)])
        })
        var attempts: [TopicPartition: [ClosedRange<Int64>]] = [:]
        for (partition, rows) in zip(partitions, answers) {
            attempts[partition] = rows.rows.compactMap { row in
                guard let first = row[0].flatMap({ Int64($0) }), let last = row[1].flatMap({ Int64($0) }) else { return nil }
                return first...last
            }
        }
        var counts: [Position: Int] = [:]
        for message in messages {
            let count = attempts[message.topicPartition]?.filter { $0.contains(message.offset) }.count ?? 0
            if count > 0 { counts[Position(message)] = count }
        }
        return counts
    }

    /// The statement, for the batch's transaction, that forgets the attempts a commit finished:
    /// every one of the partition's that ends below its next offset.
    func forget(_ partition: TopicPartition, below next: Int64) -> (sql: String, parameters: [PostgresValue]) {
        ("""
         DELETE FROM processing_attempts
         WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3 AND last_offset < $4
         """, [.text(group), .text(partition.topic), .int(partition.partition), .int(next)])
    }

    static func ranges(of messages: [KafkaMessage]) -> [TopicPartition: ClosedRange<Int64>] {
        var ranges: [TopicPartition: ClosedRange<Int64>] = [:]
        for message in messages {
            let range = ranges[message.topicPartition]
            ranges[message.topicPartition] = min(range?.lowerBound ?? message.offset, message.offset)...max(range?.upperBound ?? message.offset, message.offset)
        }
        return ranges
    }
}
