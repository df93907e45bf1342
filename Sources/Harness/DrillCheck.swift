import Foundation
import Kafka
import Pipeline
import Postgres

/// What a drill found.
public struct DrillReport: Codable, Sendable {
    public var minutes = 0.0
    public var rate = 0.0
    public var published = 0
    public var good = 0
    public var bad = 0
    /// Records in the topics at the end (the partitions' watermarks): what the daemon had to consume.
    public var onKafka = 0
    /// Records the broker deleted from the partitions' heads by the end (their low watermarks),
    /// consumed or not: the embedded broker keeps at most 5 MiB per partition, so a daemon that
    /// falls that far behind loses the oldest records it has not read to the broker, not to itself.
    public var deletedByBroker = 0
    public var results = 0
    public var deadLetters = 0
    /// Good events with no result, and results more than one per event.
    public var lost = 0
    public var duplicated = 0
    /// Bad events without their dead letter.
    public var deadLettersMissing = 0
    /// Whether PostgreSQL's stored offsets reach the end of every partition.
    public var offsetsAtEnd = false
    public var faults: [String: Int] = [:]
    public var daemonStarts = 0
    public var unexpectedExits: [Int32] = []
    public var finalExitStatus: Int32?
    public var drainSeconds = 0.0

    public var passed: Bool {
        lost == 0 && duplicated == 0 && deadLettersMissing == 0 && deadLetters == bad && offsetsAtEnd && onKafka == published
            && unexpectedExits.isEmpty && finalExitStatus == 0
    }
}

/// The drill's end-of-run checks, against PostgreSQL and the broker.
enum DrillCheck {
    static func written(_ conninfo: String) throws -> Int {
        try PostgresConnection(conninfo).execute("""
            SELECT (SELECT count(*) FROM images) + (SELECT count(*) FROM reports) + (SELECT count(*) FROM dead_letters)
            """).scalarInt ?? 0
    }

    /// The records in the stream's topics (the sum of their partitions' high watermarks: they
    /// were new), and how many the broker has deleted from their heads (the low watermarks).
    static func recordsOnKafka(_ configuration: RadStreamConfiguration, partitions: Int) throws -> (published: Int, deleted: Int) {
        let consumer = try KafkaConsumer(configuration: KafkaConfiguration([
            "bootstrap.servers": configuration.kafka.bootstrapServers, "group.id": "radstream-drill-watermarks",
        ]), handler: nil)
        var (high, low): (Int64, Int64) = (0, 0)
        for topic in configuration.topics {
            for partition in 0..<partitions {
                let marks = try consumer.watermarks(of: TopicPartition(topic, Int32(partition)), timeout: .seconds(10))
                (high, low) = (high + marks.high, low + marks.low)
            }
        }
        return (Int(high), Int(low))
    }

    static func verify(conninfo: String, configuration: RadStreamConfiguration, sent: DrillPublisher.Counts, badEvery: Int,
                       onKafka: Int) throws -> DrillReport {
        let database = try PostgresConnection(conninfo)
        var report = DrillReport()
        (report.good, report.bad, report.published, report.onKafka) = (sent.good, sent.bad, sent.good + sent.bad, onKafka)
        let stored = try database.execute("SELECT event_id FROM images UNION ALL SELECT event_id FROM reports").rows.compactMap { $0[0] }
        report.results = stored.count
        let distinct = Set(stored)
        report.duplicated = stored.count - distinct.count
        // The publisher numbers its events: index n is r<n> (even) or i<n> (odd), bad when n % badEvery == badEvery - 1.
        let indices = 0..<(sent.good + sent.bad)
        report.lost = indices.filter { $0 % badEvery != badEvery - 1 && !distinct.contains(($0 % 2 == 0 ? "r" : "i") + "\($0)") }.count
        let letters = try database.execute("SELECT count(*), count(DISTINCT (topic, kafka_partition, kafka_offset)) FROM dead_letters").rows[0]
        report.deadLetters = Int(letters[0] ?? "0") ?? 0
        report.duplicated += report.deadLetters - (Int(letters[1] ?? "0") ?? 0)
        report.deadLettersMissing = max(0, sent.bad - report.deadLetters)
        let offsets = try database.execute("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE consumer_group = $1",
                                           [.text(configuration.kafka.groupID)]).scalarInt ?? 0
        report.offsetsAtEnd = offsets == onKafka
        return report
    }
}
