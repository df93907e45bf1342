import Events
import Foundation
import Kafka
import Models
import Postgres
import Registry
import Replay
import SelfTraining
import TestSupport
import Testing
import Training
@testable import Pipeline

/// Self-training against the real PostgreSQL: rounds, the gate, the registry, leadership, and
/// the daemon's hot swap. Serialized: two cores.
@Suite("Self-training, end to end", .serialized)
struct SelfTrainingIntegrationTests {
    static let pneumoniaData = Paths.data.appending(path: "pneumoniamnist")

    /// The shipped pneumonia classifier with its gate, as the daemon loads it.
    static func shipped() throws -> GatedClassifier {
        try #require(try ModelStore.gatedClassifiers(at: TestData.packageRoot.appending(path: "models/pneumonia")).first)
    }

    /// Settings for rounds of a few seconds: 2% of the labels, a few steps.
    static func settings() -> SelfTrainingSettings {
        var settings = SelfTrainingSettings.standard
        settings.labeledData = pneumoniaData.path
        settings.labelFraction = 0.02
        settings.round.epochs = 1
        settings.round.batchSize = 32
        settings.round.minSteps = 8
        settings.round.maxSteps = 8
        return settings
    }

    /// Stores `count` PneumoniaMNIST training images as the stream would have (rows of `images`
    /// and their 28-pixel copies), without labels.
    static func storeUnlabeledImages(_ count: Int, on connection: PostgresConnection, offset: Int = 0) throws {
        let images = try BinaryLabelFolder.load(pneumoniaData.appending(path: "train"), side: 28).images.dropFirst(offset).prefix(count)
        for (index, image) in images.enumerated() {
            try connection.execute("""
                WITH image AS (
                    INSERT INTO images (topic, kafka_partition, kafka_offset, event_id, study_id, image_id, source, format,
                                        width, height, source_bit_depth)
                    VALUES ('test.images', 0, $1, $2, $2, $2, 'inline', 'png', 28, 28, 8) RETURNING id)
                INSERT INTO image_pixels (image_id, side, pixels) SELECT id, 28, $3 FROM image
                """, [.int(offset + index), .text(image.file), .bytea(image.pixels)])
        }
    }

    @Test func aRoundRunsEndToEndRecordsItselfAndAnnouncesItsPromotion() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("self_training_round")
        let database = try PostgresConnection(conninfo)
        try Self.storeUnlabeledImages(200, on: database)
        let listener = try PostgresConnection(conninfo)
        try listener.listen(ModelRegistry.channel)
        var settings = Self.settings()
        settings.gate = PromotionGate(minimumAUCGain: -1, calibrationTolerance: 1)  // the mechanics, not the figures
        let trainer = try SelfTrainer.connected(settings: settings, group: "round-group", conninfo: conninfo)
        #expect(try trainer.due(since: Date()).trigger == nil)  // 200 new images, 1000 wanted
        var lines: [String] = []
        let record = try #require(try trainer.runRound(trigger: .manual, served: Self.shipped(), progress: { lines.append($0) }))

        let labeled = try BinaryLabelFolder.load(Self.pneumoniaData.appending(path: "train"), side: 28).fraction(0.02, seed: 1).count
        #expect(record.decision == "promoted" && record.unlabeledImages == 200 && record.labeledImages == labeled)
        #expect(lines.first?.contains("200 unlabeled") == true && lines.contains { $0.contains("step 8/8") })
        let round = try database.execute("""
            SELECT trigger, labeled_images, unlabeled_images, steps, teacher_version, candidate_version, decision,
                   (teacher_metrics->>'auc')::float8 > 0.9, (candidate_metrics->>'images')::int, last_image_id
            FROM self_training_rounds
            """)
        #expect(round.rows == [["manual", String(labeled), "200", "8", try Self.shipped().version, record.candidateVersion, "promoted",
                                "t", "524", "200"]])
        // The registry: the shipped model (registered by the round) retired, the candidate served, its parent the shipped one.
        let versions = try ModelRegistry(connection: database).versions(of: "pneumonia")
        #expect(versions.map(\.status) == ["retired", "active"])
        #expect(versions.last?.version == record.candidateVersion && versions.last?.parentVersion == record.teacherVersion)
        let served = try ModelRegistry(connection: database).classifier("pneumonia", version: record.candidateVersion!)
        #expect(served.version == record.candidateVersion)
        // Served with a gate of its own, keeping the shipped gate's population check; the shipped
        // version's gate is in the registry too, for a rollback.
        let shipped = try Self.shipped()
        #expect(served.gate?.modelVersion == record.candidateVersion && served.gate?.populationCheck?.refuses == shipped.gate?.populationCheck?.refuses)
        #expect(served.gate?.populationCheck?.classifier.settings.version == shipped.gate?.populationCheck?.classifier.settings.version)
        #expect(lines.contains { $0.contains("its applicability gate finds") })
        let teacher = try ModelRegistry(connection: database).classifier("pneumonia", version: shipped.version)
        #expect(try teacher.gate?.checkpoints().gate.serialized() == shipped.gate?.checkpoints().gate.serialized())
        // Every instance hears of it.
        let heard = try listener.notifications(timeout: .seconds(5))
        #expect(heard.last?.channel == ModelRegistry.channel
                && heard.last?.payload == #"{"model":"pneumonia","version":"\#(record.candidateVersion!)"}"#)
        // The round's images are not new any more; the next one counts from there.
        #expect(try trainer.due(since: Date.distantPast).newImages == 0)
        try Self.storeUnlabeledImages(1, on: database, offset: 200)
        let due = try trainer.due(since: Date.distantPast)
        #expect(due.trigger == nil && due.newImages == 1)  // one new image; the interval counts from the round
    }

    @Test func theGateRejectsADeliberatelyWorseStudent() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("self_training_gate")
        let database = try PostgresConnection(conninfo)
        try Self.storeUnlabeledImages(200, on: database)
        var settings = Self.settings()
        // A rate a hundred times too high, and no correction: the student forgets what it knew.
        settings.round.learningRate = 0.5
        settings.round.correctionEvery = 0
        let record = try #require(try SelfTrainer.connected(settings: settings, group: "gate-group", conninfo: conninfo)
            .runRound(trigger: .manual, served: Self.shipped()))
        #expect(record.decision == "rejected", "\(record.reason)")
        #expect(record.candidateValidation!.auc < record.teacherValidation!.auc)
        let registry = ModelRegistry(connection: database)
        #expect(try registry.activeVersion(of: "pneumonia") == Self.shipped().version)
        #expect(try registry.versions(of: "pneumonia").map(\.status) == ["active", "candidate"])
        #expect(try database.execute("SELECT decision, reason FROM self_training_rounds").rows == [["rejected", record.reason]])
    }

    @Test func onlyOneInstanceOfAGroupTrainsAtATime() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("self_training_leader")
        try Self.storeUnlabeledImages(100, on: PostgresConnection(conninfo))
        let settings = Self.settings()
        nonisolated(unsafe) let first = try SelfTrainer.connected(settings: settings, group: "one-group", conninfo: conninfo)  // used on its thread only
        let second = try SelfTrainer.connected(settings: settings, group: "one-group", conninfo: conninfo)
        let inRound = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let served = try Self.shipped()
        nonisolated(unsafe) var firstRecord: SelfTrainer.Record?
        let firstDone = DispatchSemaphore(value: 0)
        Thread {
            var paused = false
            firstRecord = try? first.runRound(trigger: .manual, served: served, pace: { _ in
                if !paused { paused = true; inRound.signal(); release.wait() }
            })
            firstDone.signal()
        }.start()
        inRound.wait()
        // The first holds the leadership: the second does not train, and says so.
        #expect(try second.runRound(trigger: .manual, served: served) == nil)
        release.signal()
        firstDone.wait()
        #expect(firstRecord != nil)
        // Once the first is done, the second may lead.
        #expect(try second.runRound(trigger: .manual, served: served) != nil)
        #expect(try PostgresConnection(conninfo).execute("SELECT count(*) FROM self_training_rounds").scalarInt == 2)
    }

    @Test func promoteAndRollbackChangeTheServedVersionAndAreAnnounced() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("self_training_registry")
        let registry = ModelRegistry(connection: try PostgresConnection(conninfo))
        let listener = try PostgresConnection(conninfo)
        try listener.listen(ModelRegistry.channel)
        let shipped = try Self.shipped()
        #expect(try registry.adopt(shipped, metrics: nil).version == shipped.version)
        let second = Self.version(of: shipped, "second"), third = Self.version(of: shipped, "third")
        try registry.record(candidate: second, parent: shipped.version, metrics: Self.figures, promote: false)
        #expect(try registry.record(candidate: third, parent: shipped.version, metrics: Self.figures, promote: true) == .promoted)
        #expect(try registry.activeVersion(of: "pneumonia") == "third")

        try registry.promote("second")
        #expect(try registry.activeVersion(of: "pneumonia") == "second")
        #expect(throws: SelfTrainingError.self) { try registry.promote("second") }  // already served
        #expect(throws: SelfTrainingError.self) { try registry.promote("no-such-version") }
        // Rollbacks undo in order: second → third → the shipped one; then nothing is left to undo.
        #expect(try registry.rollback("pneumonia").to.version == "third")
        #expect(try registry.rollback("pneumonia").to.version == shipped.version)
        #expect(throws: SelfTrainingError.self) { try registry.rollback("pneumonia") }
        let heard = try listener.notifications(timeout: .seconds(5)).map(\.payload)
        #expect(heard.count == 5 && heard.last == #"{"model":"pneumonia","version":"\#(shipped.version)"}"#)
        // A restarting daemon serves the registry's choice, not the file's.
        try registry.promote("third")
        #expect(try registry.adopt(shipped, metrics: nil).version == "third")
    }

    /// A person rolls back while a round trains from the version served then: when the round
    /// ends, its candidate must not be served over the person's choice.
    @Test func aRoundsPromotionDoesNotUndoAPersonsChangeMadeDuringIt() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("self_training_cas")
        let registry = ModelRegistry(connection: try PostgresConnection(conninfo))
        let shipped = try Self.shipped()
        _ = try registry.adopt(shipped, metrics: nil)
        let second = Self.version(of: shipped, "second"), third = Self.version(of: shipped, "third")
        #expect(try registry.record(candidate: second, parent: shipped.version, metrics: Self.figures, promote: true) == .promoted)
        // A round starts from "second"; meanwhile a person returns to the shipped version.
        try registry.rollback("pneumonia")
        let recorded = try registry.record(candidate: third, parent: "second", metrics: Self.figures, promote: true)
        #expect(recorded == .servedVersionChanged(to: shipped.version))
        #expect(try registry.activeVersion(of: "pneumonia") == shipped.version, "the person's choice stands")
        #expect(try registry.versions(of: "pneumonia").first { $0.version == "third" }?.status == "candidate", "kept, to promote by hand")
    }

    /// Weights changed in place after they were registered are refused, not served.
    @Test func weightsThatDoNotMatchTheirDigestAreRefused() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("self_training_digest")
        let database = try PostgresConnection(conninfo)
        let registry = ModelRegistry(connection: database)
        let shipped = try Self.shipped()
        _ = try registry.adopt(shipped, metrics: nil)
        try registry.record(candidate: Self.version(of: shipped, "second"), parent: shipped.version, metrics: Self.figures,
                            promote: false)
        #expect(try registry.classifier("pneumonia", version: "second").version == "second")
        // One byte of the stored weights flipped (its header's first byte stays: the file still parses).
        try database.execute("""
            UPDATE model_registry SET weights = set_byte(weights, length(weights) - 1, 255 - get_byte(weights, length(weights) - 1))
            WHERE version = 'second'
            """)
        let error = #expect(throws: SelfTrainingError.self) { try registry.classifier("pneumonia", version: "second") }
        #expect(error.map { "\($0)".contains("does not match its recorded digest") } == true, "\(String(describing: error))")
        // So is a gate changed in place.
        #expect(try registry.classifier("pneumonia", version: shipped.version).gate != nil)
        try database.execute("""
            UPDATE model_registry SET applicability = set_byte(applicability, length(applicability) - 1, 0) WHERE version = $1
            """, [.text(shipped.version)])
        let gateError = #expect(throws: SelfTrainingError.self) { try registry.classifier("pneumonia", version: shipped.version) }
        #expect(gateError.map { "\($0)".contains("gate") } == true, "\(String(describing: gateError))")
        try registry.promote("second")
        #expect(throws: SelfTrainingError.self, "a daemon starting on it refuses it") { try registry.adopt(shipped, metrics: nil) }
    }

    /// A hot swap under load: a version promoted while 1,000 image events stream through; every
    /// event is written once, each image has one prediction, and both versions made some.
    @Test func aHotSwapUnderLoadLosesNoEventAndDuplicatesNone() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("self_training_swap")
        var configuration = try Self.pneumoniaOnly(environment.configuration(name: "self-training-swap", conninfo: conninfo))
        configuration.batch = .init(maxEvents: 50, maxWaitMilliseconds: 50)
        let shipped = try Self.shipped()
        let registry = ModelRegistry(connection: try PostgresConnection(conninfo))
        _ = try registry.adopt(shipped, metrics: nil)
        let next = Self.version(of: shipped, "hot-swapped")
        try registry.record(candidate: next, parent: shipped.version, metrics: Self.figures, promote: false)

        let daemon = try InProcessDaemon(configuration: configuration)
        let factory = try EventFactory()
        let producer = try EventFactory.producer(for: environment.broker.bootstrapServers)
        let database = try PostgresConnection(conninfo)
        for index in 0..<1000 {
            let event = try factory.event(2 * index + 1)  // odd indices: images
            try producer.send(topic: configuration.kafka.imageTopic, key: Array(event.studyID.utf8), value: event.encoded())
            if index == 500 {
                try producer.flush()
                // Promote while the stream flows: once some of it is written, and before all of it is.
                #expect(try eventually(timeout: .seconds(60), every: .milliseconds(20)) {
                    try database.execute("SELECT count(*) FROM images").scalarInt ?? 0 > 100
                })
                try registry.promote("hot-swapped")
            }
        }
        try producer.flush()
        let done = try eventually(timeout: .seconds(120)) { try Counts.read(conninfo).images >= 1000 }
        daemon.stop()
        #expect(daemon.failure == nil)
        #expect(done)
        #expect(try Counts.read(conninfo) == Counts(images: 1000, reports: 0, deadLetters: 0, distinctEvents: 1000))
        let versions = try database.execute("""
            SELECT model_version, count(*) FROM image_predictions WHERE model = 'pneumonia' GROUP BY model_version ORDER BY 1
            """).rows
        #expect(versions.count == 2 && versions.map { $0[0]! }.sorted() == ["hot-swapped", shipped.version].sorted())
        #expect(versions.reduce(0) { $0 + Int($1[1]!)! } == 1000)
        // The shipped version's gate judged its predictions; the version registered without a gate is not judged.
        let judged = try database.execute("""
            SELECT model_version, bool_and(applicable IS NOT NULL), bool_and(applicable IS NULL) FROM image_predictions
            WHERE model = 'pneumonia' GROUP BY model_version
            """).rows
        #expect(judged.first { $0[0] == shipped.version }?[1] == "t")
        #expect(judged.first { $0[0] == "hot-swapped" }?[2] == "t")
    }

    /// Two daemons of one group, both self-training: when new unlabeled images make a round due,
    /// one leads and trains, the other finds the leadership taken; the promotion reaches both,
    /// and the images after it are classified by the new version whichever daemon reads them.
    @Test func twoDaemonsOfOneGroupTrainOnceAndBothSwap() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("self_training_daemons")
        var configuration = try Self.pneumoniaOnly(environment.configuration(name: "self-training-daemons", conninfo: conninfo))
        configuration.selfTraining = Self.settings()
        configuration.selfTraining.enabled = true
        configuration.selfTraining.newImages = 150
        configuration.selfTraining.checkSeconds = 1
        configuration.selfTraining.gate = PromotionGate(minimumAUCGain: -1, calibrationTolerance: 1)
        try SelfTrainingScheduler.check(configuration, serving: ["pneumonia"])
        let daemons = try (0..<2).map { _ in try InProcessDaemon(configuration: configuration) }
        let producer = try EventFactory.producer(for: environment.broker.bootstrapServers)
        let files = try ReplaySource.imageFiles(in: Self.pneumoniaData.appending(path: "train"))
        func send(_ range: Range<Int>) throws {
            for index in range {
                let event = ImageEvent(eventID: "unlabeled-\(index)", studyID: "study-\(index)", imageID: "image-\(index)",
                                       inline: try Data(contentsOf: files[index % files.count]).base64EncodedString())
                try producer.send(topic: configuration.kafka.imageTopic, key: Array(event.studyID.utf8), value: Event.image(event).encoded())
            }
            try producer.flush()
        }
        let database = try PostgresConnection(conninfo)
        try send(0..<200)
        let promoted = try eventually(timeout: .seconds(180)) {
            try database.execute("SELECT count(*) FROM self_training_rounds WHERE decision = 'promoted'").scalarInt == 1
        }
        #expect(promoted)
        Thread.sleep(forTimeInterval: 3)  // both daemons check again: nothing new, no second round
        let rounds = try database.execute("SELECT candidate_version, unlabeled_images FROM self_training_rounds").rows
        // One round, on the 150 or more images that made it due (the rest, fewer than 150, are not due yet).
        #expect(rounds.count == 1 && (150...200).contains(Int(rounds.first?[1] ?? "") ?? 0), "\(rounds)")
        let candidate = try #require(rounds.first?[0] ?? nil)

        try send(200..<400)
        let done = try eventually(timeout: .seconds(120)) { try Counts.read(conninfo).images >= 400 }
        for daemon in daemons { daemon.stop() }
        #expect(done && daemons.allSatisfy { $0.failure == nil })
        // The last 200 images, spread over both daemons' partitions, all by the promoted version,
        // and each judged by the gate the round fitted for it.
        #expect(try database.execute("""
            SELECT count(*) FROM image_predictions p JOIN images i ON i.id = p.image_id
            WHERE p.model_version = $1 AND split_part(i.event_id, '-', 2)::int >= 200 AND p.applicable IS NOT NULL
            """, [.text(candidate)]).scalarInt == 200)
        #expect(try database.execute("SELECT count(DISTINCT kafka_partition) FROM images WHERE split_part(event_id, '-', 2)::int >= 200")
            .scalarInt == 4)
    }

    /// The daemon with the pneumonia classifier alone: what self-training swaps.
    static func pneumoniaOnly(_ base: RadStreamConfiguration) -> RadStreamConfiguration {
        var configuration = base
        configuration.models.classifiers = ["pneumonia"]
        configuration.models.summarizeReports = false
        configuration.models.captionImages = false
        return configuration
    }

    static let figures: ClassifierEvaluation = try! JSONDecoder().decode(ClassifierEvaluation.self, from: Data("""
        {"images": 524, "auc": 0.99, "accuracy": 0.97, "negativeLogLikelihood": 0.1, "expectedCalibrationError": 0.01}
        """.utf8))

    /// The same weights under another version name, without a gate: a second version to
    /// register and swap to.
    static func version(of served: GatedClassifier, _ version: String) -> GatedClassifier {
        var settings = served.classifier.settings
        settings.version = version
        return GatedClassifier(ImageClassifier(network: served.classifier.network, settings: settings), gate: nil)
    }
}
