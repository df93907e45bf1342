import Events
import Foundation
import Kafka
import Postgres
import Testing
@testable import Pipeline

/// The daemon against the real PostgreSQL and the embedded broker. Serialized: two cores.
@Suite("Stream, end to end", .serialized)
struct StreamIntegrationTests {
    @Test func twoThousandEventsInGiveExactlyTwoThousandResults() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("exact_count")
        let configuration = try environment.configuration(name: "exact-count", conninfo: conninfo)
        let factory = try EventFactory()
        let producer = try EventFactory.producer(for: environment.broker.bootstrapServers)
        for index in 0..<2000 {
            let event = try factory.event(index)
            let topic = if case .image = event { configuration.kafka.imageTopic } else { configuration.kafka.reportTopic }
            try producer.send(topic: topic, key: Array(event.studyID.utf8), value: event.encoded())
        }
        try producer.flush()

        let daemon = try InProcessDaemon(configuration: configuration)
        let done = try eventually(timeout: .seconds(120)) { try Counts.read(conninfo).total >= 2000 }
        daemon.stop()
        #expect(daemon.failure == nil)
        #expect(done)
        let counts = try Counts.read(conninfo)
        #expect(counts == Counts(images: 1000, reports: 1000, deadLetters: 0, distinctEvents: 2000))
        // Every image kept its 28×28 copy, and the offsets stored say every record was consumed.
        let database = try PostgresConnection(conninfo)
        #expect(try database.execute("SELECT count(*) FROM image_pixels WHERE side = 28").scalarInt == 1000)
        #expect(try database.execute("SELECT sum(next_offset) FROM consumer_offsets").scalarInt == 2000)
    }
}
