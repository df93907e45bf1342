import Foundation
import Kafka
import Postgres
import Testing
@testable import Pipeline

/// Faults of the Kafka cluster, injected through the mock cluster's own fault API while a stream
/// flows, and the group changing under it: every event exactly once at the end.
@Suite("Broker faults and rebalances, end to end", .serialized)
struct BrokerFaultIntegrationTests {
    @Test func brokerDownLeaderChangesRequestErrorsAndARebalanceLoseAndDuplicateNothing() throws {
        let environment = try TestEnvironment.get()
        let broker = environment.broker
        let conninfo = try environment.makeDatabase("broker_faults")
        let configuration = try environment.deliveryConfiguration(name: "broker-faults", partitions: 6, conninfo: conninfo)
        let (total, badEvery) = (3000, 50)
        let published = try environment.publishInBackground(count: total, rate: 150, configuration: configuration, badEvery: badEvery)
        func progressed(beyond count: Int) throws -> Bool {
            try eventually(timeout: .seconds(60)) { try Counts.read(conninfo).total > count }
        }

        let first = try InProcessDaemon(configuration: configuration)
        #expect(try progressed(beyond: 200))
        // A broker down for three seconds (its partitions have no one to answer), then back.
        try broker.setBroker(2, up: false)
        Thread.sleep(forTimeInterval: 3)
        try broker.setBroker(2, up: true)
        #expect(try progressed(beyond: try Counts.read(conninfo).total + 100), "flows again after the broker is back")
        // Every partition's leader moves to another broker mid-stream.
        for topic in configuration.topics {
            for partition in 0..<6 { try broker.setLeader(of: topic, partition: Int32(partition), to: Int32(partition % 3) + 1) }
        }
        // Fetches and offset commits answered with errors a real cluster gives in a leader election.
        broker.failNext(.fetch, with: [6, 6, 7, 6])
        broker.failNext(.offsetCommit, with: [7, 7])
        #expect(try progressed(beyond: try Counts.read(conninfo).total + 100), "flows again after the leaders move")
        // A second instance joins (the partitions are shared out again), then the first leaves.
        let second = try InProcessDaemon(configuration: configuration)
        #expect(try progressed(beyond: try Counts.read(conninfo).total + 200))
        first.stop()
        published.wait()
        let done = try eventually(timeout: .seconds(90)) { try Counts.read(conninfo).total >= total }
        second.stop()
        #expect(first.failure == nil && second.failure == nil)
        #expect(done)
        #expect(try Counts.read(conninfo) == TestEnvironment.expectedCounts(count: total, badEvery: badEvery))
    }

    /// Two instances of one group; one is frozen (SIGSTOP) past its session timeout while it
    /// holds a batch, so the group gives its partitions to the other, which redoes that batch;
    /// thawed (SIGCONT), the first tries to commit what it held. The fence keeps the results
    /// exact, each dead letter is on the table once, and the counters of both add up to the truth.
    @Test func anInstanceFrozenPastItsSessionTimeoutWritesNothingTwice() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("frozen_instance")
        var configuration = try environment.deliveryConfiguration(name: "frozen-instance", partitions: 6, conninfo: conninfo)
        configuration.batch = .init(maxEvents: 100, maxWaitMilliseconds: 100)
        let (total, badEvery) = (3000, 20)
        let published = try environment.publishInBackground(count: total, rate: 150, configuration: configuration, badEvery: badEvery)

        // The one to freeze takes 3 s over each batch; the other commits its own within a second.
        let frozen = try DaemonProcess(configuration: configuration, directory: environment.root,
                                       environment: ["RADSTREAM_FAILPOINT_BATCH_DELAY_MS": "3000"])
        let other = try DaemonProcess(configuration: configuration, directory: environment.root)
        let database = try PostgresConnection(conninfo)
        #expect(try eventually(timeout: .seconds(60)) { try Counts.read(conninfo).total > 600 })
        // Frozen while it holds a batch: an attempt open for more than a second is the slow one's.
        #expect(try eventually(timeout: .seconds(30), every: .milliseconds(50)) {
            try database.execute("SELECT count(*) FROM processing_attempts WHERE started_at < now() - interval '1 second'").scalarInt ?? 0 > 0
        })
        kill(frozen.pid, SIGSTOP)
        Thread.sleep(forTimeInterval: 20)  // past the 6 s session and the rebalance: the other takes every partition
        kill(frozen.pid, SIGCONT)
        published.wait()
        let done = try eventually(timeout: .seconds(90)) { try Counts.read(conninfo).total >= total }
        Thread.sleep(forTimeInterval: 2)  // the last commits' counters
        let written = frozen.metricSum("radstream_events_processed_total") + other.metricSum("radstream_events_processed_total")
        let deadLettered = frozen.metricSum("radstream_events_dead_lettered_total") + other.metricSum("radstream_events_dead_lettered_total")
        #expect(frozen.stop(with: SIGTERM) == 0, "\(frozen.output.suffix(1500))")
        #expect(other.stop(with: SIGTERM) == 0, "\(other.output.suffix(1500))")
        #expect(done)
        let expected = TestEnvironment.expectedCounts(count: total, badEvery: badEvery)
        #expect(try Counts.read(conninfo) == expected)
        #expect(Int(written) == expected.images + expected.reports, "results counted once, by whoever wrote them")
        #expect(Int(deadLettered) == expected.deadLetters, "dead letters counted once")
        #expect(frozen.output.contains("records already committed"), "the thawed batch was fenced off:\n\(frozen.output.suffix(1500))")
    }
}
