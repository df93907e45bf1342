import Kafka
import Postgres

/// The group gives partitions (resume each from PostgreSQL's offsets, holding one whose stored
/// offset lies past its end) or takes them away (finish what was read from them first). Runs
/// inside `poll`, on the consumer's thread.
extension StreamConsumer {
    func partitionsAssigned(_ partitions: [TopicPartition]) -> Assignment {
        do {
            try committer?.drain()  // the session is the committer's until it is idle
            let stored = try database.run("offset lookup") { try offsets.storedOffsets(for: partitions, on: $0) }
            unfinishedUpTo = try database.run("attempt lookup") { try attempts.lastUnfinishedOffsets(of: partitions, on: $0) }
            var assignment = Assignment(offsets: [:])
            var held: [String] = []
            for partition in partitions {
                guard let next = stored[partition] else {
                    assignment.offsets[partition] = OffsetStore.beginning
                    continue
                }
                assignment.offsets[partition] = next
                let watermarks: (low: Int64, high: Int64)
                do {
                    guard let consumer else { continue }
                    watermarks = try consumer.watermarks(of: partition, timeout: .seconds(5))
                } catch {
                    logger.warning("cannot check \(partition)'s stored offset \(next) against its end: \(error)", metadata: partition.logMetadata)
                    continue
                }
                let (low, high) = watermarks
                if next > high {
                    // The partition's log is shorter than what was consumed of it: the topic was
                    // recreated (or another cluster answers). Consuming from the stored offset
                    // would make librdkafka fall back to the log's beginning and every new record
                    // would be skipped as already done.
                    let numbers = "\(partition): PostgreSQL's next offset is \(next) but the partition ends at \(high) (begins at \(low))"
                    if configuration.kafka.resetOffsetsBeyondEnd {
                        try database.run("offset reset") { try offsets.reset(partition, to: low, on: $0) }
                        assignment.offsets[partition] = low
                        metrics.offsetReset(partition)
                        logger.error("\(numbers); kafka.resetOffsetsBeyondEnd is set: consuming it again from \(low)", metadata: partition.logMetadata)
                    } else {
                        assignment.held.insert(partition)
                        held.append(numbers)
                        logger.error("""
                            \(numbers): not consuming it. Was the topic recreated? Set kafka.resetOffsetsBeyondEnd \
                            (RADSTREAM_RESET_OFFSETS_BEYOND_END=true) to consume it from its beginning
                            """, metadata: partition.logMetadata)
                    }
                } else if next < low {
                    logger.warning("\(partition): records \(next)..<\(low) were deleted by the broker before they were consumed", metadata: partition.logMetadata)
                }
            }
            status.setHeldPartitions(held)
            metrics.heldPartitions(held.count)
            logger.info("assigned \(partitions.count) partitions; resuming from PostgreSQL offsets", metadata: ["partitions": .array(partitions.map { "\($0)" })])
            return assignment
        } catch {
            // Stopping before PostgreSQL answered: nothing will be consumed anyway.
            return Assignment(offsets: [:], held: Set(partitions))
        }
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) {
        // Finish what was read from these partitions before they move to another consumer.
        do {
            try flush()
            try committer?.drain()
        } catch {
            logger.error("could not commit before revocation: \(error); the new owner will redo it")
            batch.drop(partitions: Set(partitions))
        }
        status.setHeldPartitions([])
        metrics.heldPartitions(0)
        metrics.partitionsRevoked(partitions)
        logger.info("revoked \(partitions.count) partitions")
    }
}
