import ChildProcesses
import Events
import Foundation
import Kafka
import Postgres
import Testing
@testable import Pipeline

/// A daemon that cannot make progress must say so, stop when told to within its deadline, and
/// never let its dead-letter topic hold good events back.
@Suite("Stalls and shutdown deadlines, end to end", .serialized)
struct StallIntegrationTests {
    /// Another session holds the offsets' rows locked: the batch commit waits on the lock.
    private func lockOffsets(_ conninfo: String) throws -> PostgresConnection {
        let holder = try PostgresConnection(conninfo)
        try holder.execute("BEGIN")
        try holder.execute("SELECT * FROM consumer_offsets FOR UPDATE")
        return holder
    }

    @Test func aCommitBlockedOnALockIsCancelledRetriedAndReportedAsAStall() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("stall_lock")
        var configuration = try environment.deliveryConfiguration(name: "stall-lock", conninfo: conninfo)
        configuration.postgres.statementTimeoutSeconds = 1
        configuration.batch.stallSeconds = 2
        let factory = try EventFactory()
        try environment.publish(0..<100, factory: factory, configuration: configuration)
        let daemon = try InProcessDaemon(configuration: configuration)
        #expect(try eventually(timeout: .seconds(60)) { try Counts.read(conninfo).total == 100 })
        #expect(try eventually(timeout: .seconds(5)) { daemon.status.isReady })

        let holder = try lockOffsets(conninfo)
        try environment.publish(100..<200, factory: factory, configuration: configuration)
        var seen: Set<String> = []
        _ = try eventually(timeout: .seconds(20)) {
            for reason in daemon.status.notReadyReasons {
                if reason.contains("57014") { seen.insert("statement timeout") }
                if reason.hasPrefix("stalled") { seen.insert("stalled") }
            }
            return seen.count == 2
        }
        #expect(seen == ["statement timeout", "stalled"])
        #expect(try Counts.read(conninfo).total == 100)
        try holder.execute("COMMIT")
        #expect(try eventually(timeout: .seconds(30)) { try Counts.read(conninfo).total == 200 })
        #expect(try eventually(timeout: .seconds(5)) { daemon.status.isReady }, "\(daemon.status.notReadyReasons)")
        daemon.stop()
        #expect(try Counts.read(conninfo) == Counts(images: 100, reports: 100, deadLetters: 0, distinctEvents: 200))
    }

    /// `serve` stuck on a lock (its statement timeout longer than its shutdown deadline): SIGTERM
    /// ends it by the deadline, two signals at once; nothing is lost for the next run.
    @Test func sigtermEndsAStuckDaemonByItsDeadlineAndASecondSignalAtOnce() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("stuck_shutdown")
        var configuration = try environment.deliveryConfiguration(name: "stuck-shutdown", conninfo: conninfo)
        configuration.postgres.statementTimeoutSeconds = 600
        configuration.batch.shutdownSeconds = 3
        let factory = try EventFactory()
        try environment.publish(0..<100, factory: factory, configuration: configuration)
        let first = try DaemonProcess(configuration: configuration, directory: environment.root)
        #expect(try eventually(timeout: .seconds(60)) { try Counts.read(conninfo).total == 100 }, "\(first.output.suffix(1000))")

        let holder = try lockOffsets(conninfo)
        try environment.publish(100..<200, factory: factory, configuration: configuration)
        Thread.sleep(forTimeInterval: 2)  // consumed, and blocked on the lock
        var started = ContinuousClock.now
        #expect(first.stop(with: SIGTERM) == 1)
        var took = ContinuousClock.now - started
        #expect(took >= .seconds(2.5) && took < .seconds(10), "exits by its 3 s deadline: \(took)")
        #expect(first.output.contains("did not commit within"), "\(first.output.suffix(1000))")

        let second = try DaemonProcess(configuration: configuration, directory: environment.root)
        #expect(try eventually(timeout: .seconds(30)) { second.output.contains("consuming") })
        Thread.sleep(forTimeInterval: 5)  // joined, consumed, blocked on the lock
        started = ContinuousClock.now
        kill(second.pid, SIGTERM)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(second.stop(with: SIGTERM) == 1)
        took = ContinuousClock.now - started
        #expect(took < .seconds(2.5), "the second signal does not wait for the deadline: \(took)")
        #expect(second.output.contains("a second stop signal"), "\(second.output.suffix(1000))")

        try holder.execute("COMMIT")
        let last = try DaemonProcess(configuration: configuration, directory: environment.root)
        #expect(try eventually(timeout: .seconds(60)) { try Counts.read(conninfo).total == 200 })
        #expect(last.stop(with: SIGTERM) == 0)
        #expect(try Counts.read(conninfo) == Counts(images: 100, reports: 100, deadLetters: 0, distinctEvents: 200))
    }

    /// Every partition of the dead-letter topic without a leader: the bad events are on the table
    /// at once and the good ones flow past them (before, each batch holding a dead letter waited
    /// 10 s for the topic); once the topic has leaders again, the copies arrive.
    @Test func aDeadLetterTopicWithoutALeaderDoesNotHoldGoodEventsBack() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("dlq_leaderless")
        var configuration = try environment.deliveryConfiguration(name: "dlq-leaderless", conninfo: conninfo)
        configuration.kafka.properties["message.timeout.ms"] = "120000"
        let dlq = configuration.deadLetterTopic(for: configuration.kafka.imageTopic)
        for partition in 0..<4 { try environment.broker.setLeader(of: dlq, partition: Int32(partition), to: nil) }
        defer { for partition in 0..<4 { try? environment.broker.setLeader(of: dlq, partition: Int32(partition), to: 1) } }

        let daemon = try InProcessDaemon(configuration: configuration)
        let factory = try EventFactory()
        let producer = try EventFactory.producer(for: environment.broker.bootstrapServers)
        let bad = Array(#"{"schema":"radstream.image.v1","event_id":"bad","study_id":"s","image_id":"i","inline":"aGVsbG8="}"#.utf8)
        let started = ContinuousClock.now
        // Six rounds of good events with a bad one, each its own batch.
        for round in 0..<6 {
            try environment.publish(round * 20..<(round + 1) * 20, factory: factory, configuration: configuration)
            try producer.send(topic: configuration.kafka.imageTopic, key: Array("bad-\(round)".utf8), value: bad)
            try producer.flush()
            Thread.sleep(forTimeInterval: 0.3)
        }
        #expect(try eventually(timeout: .seconds(40)) { try Counts.read(conninfo).total == 126 })
        let took = ContinuousClock.now - started
        #expect(took < .seconds(30), "six batches with a dead letter each would have waited 60 s: \(took)")
        #expect(try Counts.read(conninfo).deadLetters == 6)

        for partition in 0..<4 { try environment.broker.setLeader(of: dlq, partition: Int32(partition), to: 1) }
        #expect(try DeadLetterIntegrationTests.drain(topics: [dlq], bootstrap: environment.broker.bootstrapServers, expecting: 6).count == 6,
                "the copies reach the topic once it has a leader")
        daemon.stop()
        #expect(daemon.failure == nil)
    }
}
