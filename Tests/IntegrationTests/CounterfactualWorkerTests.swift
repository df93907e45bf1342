import Events
import Explanations
import Foundation
import Kafka
import Postgres
import Replay
import TestSupport
import Testing
@testable import Pipeline

/// The counterfactual worker against the real PostgreSQL: taking pending calls so that no two
/// workers take the same one, a killed worker's calls taken again, and the daemon explaining
/// the positive calls of a stream. Serialized: two cores.
@Suite("Counterfactual explanations, end to end", .serialized)
struct CounterfactualWorkerTests {
    static let scope = CounterfactualStore.Scope(model: "pneumonia", positive: "pneumonia", side: 28)

    /// `count` images with a pneumonia prediction each (every third normal, every fifth marked
    /// not applicable) and their 28-pixel copies, written as the stream writes them.
    static func storePredictions(_ count: Int, on connection: PostgresConnection) throws {
        for index in 0..<count {
            let decision = index % 3 == 2 ? "normal" : "pneumonia"
            try connection.execute("""
                WITH image AS (
                    INSERT INTO images (topic, kafka_partition, kafka_offset, event_id, study_id, image_id, source, format,
                                        width, height, source_bit_depth)
                    VALUES ('test.images', 0, $1, $2, $2, $2, 'inline', 'png', 28, 28, 8) RETURNING id),
                pixels AS (INSERT INTO image_pixels (image_id, side, pixels) SELECT id, 28, $3 FROM image)
                INSERT INTO image_predictions (image_id, model, model_version, probabilities, decision, saliency_png, applicable)
                SELECT id, 'pneumonia', 'v1', '{"pneumonia": 0.9}', $4, '\\x00', $5 FROM image
                """, [.int(index), .text("event-\(index)"), .bytea((0..<784).map { UInt8(($0 + index) % 256) }), .text(decision),
                      .text(index % 5 == 4 ? "false" : "true")])
        }
    }

    /// Two workers taking at once never take the same call; what a worker took and never wrote
    /// (it died: its connection closed mid-transaction) is taken again; only positive,
    /// applicable calls are pending.
    @Test func twoWorkersNeverTakeTheSameCallAndAKilledWorkersCallsAreTakenAgain() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("counterfactual_take")
        try Self.storePredictions(30, on: try PostgresConnection(conninfo))
        // 30 calls: 10 normal (index % 3 == 2), and of the 20 positives 4 marked inapplicable.
        let expected = (0..<30).filter { $0 % 3 != 2 && $0 % 5 != 4 }.count
        let admin = try PostgresConnection(conninfo)
        let reader = CounterfactualStore(connection: admin)
        #expect(try reader.pendingCount(Self.scope) == expected)

        let (first, second) = (try PostgresConnection(conninfo), try PostgresConnection(conninfo))
        let firstProcess = try #require(try first.execute("SELECT pg_backend_pid()").scalarInt)
        try first.execute("BEGIN")
        let firstTaken = try CounterfactualStore(connection: first).take(Self.scope, limit: 5)
        let secondTaken = try second.transaction { connection -> [CounterfactualStore.Pending] in
            let store = CounterfactualStore(connection: connection)
            let taken = try store.take(Self.scope, limit: 100)
            for call in taken { try store.record(call, scope: Self.scope, explainerVersion: "test", outcome: .failed("test")) }
            return taken
        }
        #expect(firstTaken.count == 5 && secondTaken.count == expected - 5)
        #expect(Set(firstTaken.map(\.imageID)).isDisjoint(with: secondTaken.map(\.imageID)))
        #expect(firstTaken.allSatisfy { $0.pixels.count == 784 && $0.modelVersion == "v1" })
        // The first worker dies holding its five: its server process ends, as when the daemon is killed.
        try admin.execute("SELECT pg_terminate_backend($1::int)", [.int(firstProcess)])
        // pg_terminate_backend only signals: the row locks go when that process has ended.
        #expect(try eventually(timeout: .seconds(10)) {
            try admin.execute("SELECT count(*) FROM pg_locks WHERE pid = $1::int", [.int(firstProcess)]).scalarInt == 0
        })
        #expect(try reader.pendingCount(Self.scope) == 5)
        let retaken = try second.transaction { try CounterfactualStore(connection: $0).take(Self.scope, limit: 100) }
        #expect(Set(retaken.map(\.imageID)) == Set(firstTaken.map(\.imageID)))
    }

    /// The daemon with the worker on: every positive, applicable call of the stream gets its
    /// counterfactual (done, with both PNGs and the figures), none twice; `/metrics` counts them.
    @Test func theDaemonExplainsEveryPositiveCallOfTheStream() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("counterfactual_daemon")
        var configuration = try environment.configuration(name: "counterfactual-daemon", conninfo: conninfo)
        configuration.models.classifiers = ["pneumonia"]
        configuration.models.summarizeReports = false
        configuration.models.captionImages = false
        configuration.counterfactuals.enabled = true
        configuration.counterfactuals.cpuShare = 1
        configuration.counterfactuals.steps = 5
        configuration.counterfactuals.checkSeconds = 1
        let daemon = try InProcessDaemon(configuration: configuration)
        let producer = try EventFactory.producer(for: environment.broker.bootstrapServers)
        let files = try ReplaySource.imageFiles(in: Paths.data.appending(path: "pneumoniamnist/val"))
        for (index, file) in files.prefix(40).enumerated() {
            let event = ImageEvent(eventID: "image-\(index)", studyID: "study-\(index)", imageID: "image-\(index)",
                                   inline: try Data(contentsOf: file).base64EncodedString())
            try producer.send(topic: configuration.kafka.imageTopic, key: Array(event.studyID.utf8), value: Event.image(event).encoded())
        }
        try producer.flush()
        let database = try PostgresConnection(conninfo)
        let positives = "SELECT count(*) FROM image_predictions WHERE model = 'pneumonia' AND decision = 'pneumonia' AND applicable IS NOT FALSE"
        let streamed = try eventually(timeout: .seconds(60)) { try Counts.read(conninfo).images == 40 }
        let wanted = try database.execute(positives).scalarInt ?? 0
        let explained = try eventually(timeout: .seconds(120)) {
            try database.execute("SELECT count(*) FROM counterfactual_explanations").scalarInt == wanted
        }
        let pendingGauge = daemon.metric("radstream_counterfactuals_pending")
        daemon.stop()
        #expect(daemon.failure == nil && streamed && explained && wanted > 10, "\(wanted) positive calls")
        #expect(try database.execute("""
            SELECT count(*) FROM counterfactual_explanations c JOIN image_predictions p USING (image_id, model)
            WHERE c.status = 'done' AND length(c.counterfactual_png) > 0 AND length(c.difference_png) > 0 AND c.from_class = 'pneumonia'
              AND c.to_class = 'normal' AND c.l1 BETWEEN 0 AND 1 AND c.flipped IS NOT NULL AND c.model_version = p.model_version
            """).scalarInt == wanted)
        #expect(daemon.metric("radstream_counterfactuals_total{status=\"done\"}") == Double(wanted))
        #expect(pendingGauge != nil)
    }
}
