import CKafka

/// An `rd_kafka_topic_partition_list_t`, freed on deinit unless it is borrowed from librdkafka.
final class PartitionList {
    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    private let owned: Bool

    init(_ partitions: [TopicPartition]) {
        pointer = rd_kafka_topic_partition_list_new(Int32(max(1, partitions.count)))
        owned = true
        for partition in partitions { rd_kafka_topic_partition_list_add(pointer, partition.topic, partition.partition) }
    }

    init(adopting pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        self.pointer = pointer
        owned = true
    }

    init(borrowing pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        self.pointer = pointer
        owned = false
    }

    deinit {
        if owned { rd_kafka_topic_partition_list_destroy(pointer) }
    }

    private var elements: UnsafeMutableBufferPointer<rd_kafka_topic_partition_t> {
        UnsafeMutableBufferPointer(start: pointer.pointee.elems, count: Int(pointer.pointee.cnt))
    }

    func partitions() -> [TopicPartition] {
        elements.map { TopicPartition(String(cString: $0.topic), $0.partition) }
    }

    func offsets() -> [TopicPartition: Int64] {
        Dictionary(elements.map { (TopicPartition(String(cString: $0.topic), $0.partition), $0.offset) },
                   uniquingKeysWith: { first, _ in first })
    }

    func setOffsets(_ offsets: [TopicPartition: Int64]) {
        for index in elements.indices {
            let element = elements[index]
            if let offset = offsets[TopicPartition(String(cString: element.topic), element.partition)] {
                elements[index].offset = offset
            }
        }
    }
}
