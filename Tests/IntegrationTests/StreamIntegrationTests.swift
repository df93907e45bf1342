import Events
import Foundation
import Imaging
import Kafka
import Models
import Postgres
import Captioning
import Summarization
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

        // Every image has the shipped classifier's prediction, with its version and Grad-CAM PNG,
        // and it is what the model says of that image on its own.
        let classifier = try ModelStore.classifiers(at: URL(filePath: configuration.models.directory)).first { $0.settings.name == "pneumonia" }!
        #expect(try database.execute("""
            SELECT count(*) FROM image_predictions
            WHERE model = 'pneumonia' AND model_version = $1 AND length(saliency_png) > 0
            """, [.text(classifier.settings.version)]).scalarInt == 1000)
        #expect(try database.execute("SELECT count(*) FROM image_predictions WHERE model = 'covid'").scalarInt == 1000)
        // Every report has the labeler's 14 observations.
        #expect(try database.execute("""
            SELECT count(*) FROM reports WHERE labeler_version IS NOT NULL
            AND (SELECT count(*) FROM jsonb_object_keys(observations)) = 14
            """).scalarInt == 1000)
        // Every image has the shipped captioner's impression, and the labeler's reading of it.
        let captioner = try Captioner(contentsOf: URL(filePath: configuration.models.directory).appending(path: "captioner"))
        #expect(try database.execute("""
            SELECT count(*) FROM images WHERE generated_impression <> '' AND captioner_version = $1 AND generated_states_pneumonia IS NOT NULL
            """, [.text(captioner.settings.version)]).scalarInt == 1000)
        // Studies with both an image and a report set the two impressions side by side, with the flag.
        #expect(try database.execute("SELECT count(*) FROM study_impressions").scalarInt ?? 0 > 0)
        #expect(try database.execute("SELECT count(*) FROM study_impressions WHERE disagree_on_pneumonia IS NULL").scalarInt == 0)
        // Every report with FINDINGS has the shipped summarizer's impression beside its own, and
        // where it has both, the comparison of the two.
        let summarizer = try Summarizer(contentsOf: URL(filePath: configuration.models.directory).appending(path: "summarizer"))
        let withFindings = try database.execute("SELECT count(*) FROM reports WHERE findings IS NOT NULL").scalarInt ?? 0
        #expect(withFindings > 0)
        #expect(try database.execute("""
            SELECT count(*) FROM reports WHERE generated_impression <> '' AND summarizer_version = $1
            """, [.text(summarizer.version)]).scalarInt == withFindings)
        #expect(try database.execute("""
            SELECT count(*) FROM reports WHERE findings IS NOT NULL AND impression IS NOT NULL AND impression_disagreements IS NOT NULL
            """).scalarInt == (try database.execute("SELECT count(*) FROM reports WHERE findings IS NOT NULL AND impression IS NOT NULL").scalarInt))
        // Every prediction says whether its model is fit to read the film (both shipped models have a gate).
        #expect(try database.execute("""
            SELECT count(*) FROM image_predictions WHERE applicable IS NOT NULL AND applicability BETWEEN 0 AND 1
            """).scalarInt == 2000)
        let gate = try ApplicabilityGate(contentsOf: URL(filePath: configuration.models.directory).appending(path: "pneumonia/\(ApplicabilityGate.fileName)"))
        for index in [1, 3, 5] {
            let row = try database.execute("""
                SELECT (p.probabilities->>'pneumonia')::float8, p.applicable, p.applicability FROM image_predictions p
                JOIN images i ON i.id = p.image_id WHERE i.image_id = $1 AND p.model = 'pneumonia'
                """, [.text("image-\(index)")]).rows.first
            let stored = row?[0].flatMap(Double.init)
            let pixels = try ImageDecoder().decode([UInt8](Data(contentsOf: factory.images[index / 2]))).image.thumbnail(side: 28).pixels
            let expected = Double(classifier.probabilities([pixels])[0][1])
            #expect(stored.map { abs($0 - expected) < 1e-5 } == true, "image-\(index): \(String(describing: stored)) vs \(expected)")
            let (_, features) = classifier.probabilitiesAndFeatures([pixels], pooling: gate.pooling)[0]
            let assessment = gate.assess(pixels: pixels, features: features)
            #expect(row?[1] == (assessment.applicable ? "t" : "f"), "image-\(index)")
            #expect(row?[2].flatMap(Float.init).map { abs($0 - assessment.score) < 1e-6 } == true, "image-\(index): \(String(describing: row))")
        }
    }
}
