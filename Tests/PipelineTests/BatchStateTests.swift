import Kafka
import Testing
@testable import Pipeline

@Suite("The consumer's batch state")
struct BatchStateTests {
    let start = ContinuousClock.now

    func message(_ topic: String, _ partition: Int32, _ offset: Int64) -> KafkaMessage {
        KafkaMessage(topic: topic, partition: partition, offset: offset, key: nil, value: [])
    }

    @Test func dueWhenFull() {
        var state = BatchState(maxEvents: 3, maxWait: .seconds(10))
        #expect(!state.isDue(at: start))
        for offset in 0..<2 { state.add(message("t", 0, Int64(offset)), at: start) }
        #expect(!state.isDue(at: start))
        state.add(message("t", 0, 2), at: start)
        #expect(state.isDue(at: start))
        #expect(state.take().map(\.offset) == [0, 1, 2])
        #expect(state.isEmpty && !state.isDue(at: start + .seconds(60)))
    }

    @Test func dueWhenItHoldsEnoughBytes() {
        var state = BatchState(maxEvents: 100, maxBytes: 1000, maxWait: .seconds(10))
        state.add(KafkaMessage(topic: "t", partition: 0, offset: 0, key: nil, value: Array(repeating: 0, count: 600)), at: start)
        #expect(!state.isDue(at: start))
        state.add(KafkaMessage(topic: "t", partition: 1, offset: 0, key: nil, value: Array(repeating: 0, count: 400)), at: start)
        #expect(state.isDue(at: start) && state.bytes == 1000)
        state.drop(partitions: [TopicPartition("t", 1)])
        #expect(!state.isDue(at: start) && state.bytes == 600)
        _ = state.take()
        #expect(state.bytes == 0)
    }

    @Test func dueWhenTheFirstRecordHasWaitedLongEnough() {
        var state = BatchState(maxEvents: 100, maxWait: .milliseconds(200))
        state.add(message("t", 0, 0), at: start)
        state.add(message("t", 0, 1), at: start + .milliseconds(150))
        #expect(!state.isDue(at: start + .milliseconds(199)))
        #expect(state.isDue(at: start + .milliseconds(200)))
    }

    @Test func pollNeverBlocksPastTheBatchDeadline() {
        var state = BatchState(maxEvents: 100, maxWait: .milliseconds(200))
        #expect(state.pollTimeout(at: start, idle: .seconds(1)) == .seconds(1))
        state.add(message("t", 0, 0), at: start)
        #expect(state.pollTimeout(at: start + .milliseconds(50), idle: .seconds(1)) == .milliseconds(150))
        #expect(state.pollTimeout(at: start + .seconds(5), idle: .seconds(1)) == .zero)
    }

    @Test func revokedPartitionsAreDropped() {
        var state = BatchState(maxEvents: 100, maxWait: .seconds(1))
        state.add(message("a", 0, 5), at: start)
        state.add(message("a", 1, 7), at: start)
        state.add(message("b", 0, 9), at: start)
        state.drop(partitions: [TopicPartition("a", 1), TopicPartition("b", 0)])
        #expect(state.pending.map(\.offset) == [5])
        state.drop(partitions: [TopicPartition("a", 0)])
        #expect(state.isEmpty && !state.isDue(at: start + .seconds(5)))
    }

    @Test func nextOffsetsAreOnePastTheHighestOfEachPartition() {
        let next = BatchState.nextOffsets(of: [message("a", 0, 5), message("a", 0, 3), message("a", 1, 0), message("b", 0, 41)])
        #expect(next == [TopicPartition("a", 0): 6, TopicPartition("a", 1): 1, TopicPartition("b", 0): 42])
    }
}
