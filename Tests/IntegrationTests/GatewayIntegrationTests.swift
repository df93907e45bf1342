import ChildProcesses
import Foundation
import Harness
import Kafka
import Postgres
import TestSupport
import Testing
@testable import Pipeline

/// `radstream gateway` fed by the peers a hospital has: DCMTK's echoscu and storescu as the
/// modality or PACS, an MLLP client as the RIS; what it publishes read back with kcat.
@Suite("The gateway: DICOM and HL7 in, events out", .serialized)
struct GatewayIntegrationTests {
    /// A configuration with topics of its own, the gateway's image root among the daemon's
    /// allowed roots, and free ports.
    static func configuration(_ name: String, conninfo: String = "", broker: EmbeddedBroker? = nil) throws -> (RadStreamConfiguration, URL) {
        let environment = try TestEnvironment.get()
        var configuration = try environment.deliveryConfiguration(name: name, partitions: 2, conninfo: conninfo)
        if let broker {
            configuration.kafka.bootstrapServers = broker.bootstrapServers
            for topic in configuration.topics {
                try broker.createTopic(topic, partitions: 2)
                try broker.createTopic(configuration.deadLetterTopic(for: topic), partitions: 2)
            }
        }
        let root = environment.root.appending(path: "\(name)-images")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        configuration.images.allowedRoots = [root.path]
        configuration.gateway.dicom.port = try LoopbackPort.free()
        configuration.gateway.hl7.host = "127.0.0.1"
        configuration.gateway.hl7.port = 0
        configuration.gateway.http.port = 0
        return (configuration, root)
    }

    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: TestData.packageRoot.appending(path: "Tests/GatewayTests/Fixtures/\(name)"), encoding: .utf8)
    }

    /// Every file under the image root but the (empty) spool folder.
    static func storedFiles(_ root: URL) -> [String] {
        (FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? []).filter {
            !$0.hasPrefix(".incoming") && $0.hasSuffix(".dcm")
        }.sorted()
    }

    @Test func echoscuAndStorescuAreAnsweredAndEveryStoredInstanceIsAnEventOfItsStudy() throws {
        let environment = try TestEnvironment.get()
        let (configuration, root) = try Self.configuration("gateway-store")
        let gateway = try GatewayProcess(configuration: configuration, directory: environment.root)
        let port = String(gateway.dicomPort)

        #expect(try ChildProcess.run("/usr/bin/echoscu", ["-aec", "RADSTREAM", "127.0.0.1", port]).status == 0)
        let wrongAE = try ChildProcess.run("/usr/bin/echoscu", ["-aec", "ELSEWHERE", "127.0.0.1", port])
        #expect(wrongAE.status != 0 && wrongAE.output.contains("Called AE Title Not Recognized"), "\(wrongAE.output)")

        let study = DicomSamples.newUID()
        let files = try DicomSamples.make(3, study: study, in: environment.root.appending(path: "gateway-store-files"))
        let outcome = try StoreOutcome.send(files, port: gateway.dicomPort)
        #expect(files.allSatisfy(outcome.succeeded), "\(outcome.output)")

        let records = try TopicRecord.read(configuration.kafka.imageTopic, bootstrap: configuration.kafka.bootstrapServers)
        #expect(records.count == 3)
        for file in files {
            let instance = try #require(try DicomSamples.value("0008,0018", of: file))
            let series = try #require(try DicomSamples.value("0020,000e", of: file))
            let stored = root.appending(path: "\(study)/\(series)/\(instance).dcm")
            #expect(try DicomSamples.value("0008,0018", of: stored) == instance, "the instance is at \(stored.path)")
            let record = try #require(records.first { $0.json?["event_id"] as? String == "dicom:\(instance)" })
            let event = try #require(record.json)
            #expect(record.key == study && event["study_id"] as? String == study && event["image_id"] as? String == instance)
            #expect(event["uri"] as? String == stored.absoluteString && event["schema"] as? String == "radstream.image.v1")
            let dicom = try #require(event["dicom"] as? [String: Any])
            #expect(dicom["modality"] as? String == "CR" && dicom["view_position"] as? String == "PA")
            #expect(dicom["body_part_examined"] as? String == "CHEST" && dicom["calling_ae_title"] as? String == "STORESCU")
            #expect(dicom["series_instance_uid"] as? String == series && dicom["sop_class_uid"] as? String == "1.2.840.10008.5.1.4.1.1.7")
        }

        // Sent again (the sender never heard the answer): success, the stored file kept as it
        // was, the same event published again for the daemon to count as a duplicate.
        let first = try #require(Self.storedFiles(root).first)
        let before = try FileManager.default.attributesOfItem(atPath: root.appending(path: first).path)[.modificationDate] as? Date
        let again = try StoreOutcome.send([files[0]], port: gateway.dicomPort)
        #expect(again.succeeded(files[0]))
        #expect(try FileManager.default.attributesOfItem(atPath: root.appending(path: first).path)[.modificationDate] as? Date == before)
        let ids = try TopicRecord.read(configuration.kafka.imageTopic, bootstrap: configuration.kafka.bootstrapServers).compactMap { $0.json?["event_id"] as? String }
        #expect(ids.count == 4 && Set(ids).count == 3)
        // Its counters on /metrics, by DIMSE status.
        let metrics = try #require(try eventually(timeout: .seconds(10)) { gateway.httpPort != nil } ? gateway.httpPort : nil)
        #expect(httpGet("http://127.0.0.1:\(metrics)/healthz")?.status == 200)
        let text = httpGet("http://127.0.0.1:\(metrics)/metrics")?.body ?? ""
        #expect(text.contains(#"radstream_gateway_instances_total{status="0000"} 4"#), "\(text)")

        #expect(gateway.stop(with: SIGTERM) == 0)
        #expect(gateway.output.contains("instances_stored=4"), "\(gateway.output.suffix(1500))")
    }

    @Test func whatCannotBeAnImageEventIsRefusedWithItsReasonAndNothingOfItIsKept() throws {
        let environment = try TestEnvironment.get()
        var (configuration, root) = try Self.configuration("gateway-refusals")
        configuration.gateway.dicom.acceptedCallingAETitles = ["MODALITY1"]
        let gateway = try GatewayProcess(configuration: configuration, directory: environment.root)
        defer { gateway.stop(with: SIGTERM) }
        let folder = environment.root.appending(path: "gateway-refusals-files")
        let study = DicomSamples.newUID()

        // A sender that is not one of the accepted calling AE titles is refused at association.
        let good = try DicomSamples.make(1, study: study, in: folder, name: "good")
        let stranger = try StoreOutcome.send(good, port: gateway.dicomPort, callingAETitle: "STRANGER")
        #expect(stranger.responses.isEmpty && stranger.output.contains("Calling AE Title Not Recognized"), "\(stranger.output)")

        // Each refused with its status and the reason as the response's Error Comment.
        let noStudy = try DicomSamples.make(1, study: study, in: folder, name: "no-study", modifications: ["-ea", "(0020,000d)"])
        let noPixels = try DicomSamples.make(1, study: study, in: folder, name: "no-pixels", modifications: ["-ea", "(7fe0,0010)"])
        let undecodable = try DicomSamples.make(1, study: study, in: folder, name: "undecodable",
                                                modifications: ["-m", "(0028,0004)=PALETTE COLOR"])
        for (file, status, reason) in [(noStudy[0], UInt16(0xA900), "no StudyInstanceUID"), (noPixels[0], 0xA900, "no pixel data"),
                                       (undecodable[0], 0xC000, "pixel data: DICOM: cannot render")] {
            let outcome = try StoreOutcome.send([file], port: gateway.dicomPort, callingAETitle: "MODALITY1")
            #expect(outcome.responses[file.path] == status, "\(file.lastPathComponent): \(outcome.output.suffix(1500))")
            #expect(outcome.comments[file.path]?.hasPrefix(reason) == true, "\(file.lastPathComponent): \(outcome.comments)")
        }

        // An SOP class that is not a chest radiograph's is not negotiated at all.
        let dose = try DicomSamples.make(1, study: study, in: folder, name: "rt-dose",
                                         modifications: ["-m", "(0008,0016)=1.2.840.10008.5.1.4.1.1.481.2"])
        let refusedClass = try StoreOutcome.send(dose, port: gateway.dicomPort, callingAETitle: "MODALITY1")
        #expect(refusedClass.output.contains("No presentation context"), "\(refusedClass.output)")

        // Nothing of them is kept or published; the accepted sender's good instance is.
        #expect(Self.storedFiles(root).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appending(path: ".incoming").path).isEmpty)
        #expect(try TopicRecord.read(configuration.kafka.imageTopic, bootstrap: configuration.kafka.bootstrapServers).isEmpty)
        #expect(try StoreOutcome.send(good, port: gateway.dicomPort, callingAETitle: "MODALITY1").succeeded(good[0]))
        #expect(Self.storedFiles(root).count == 1)
    }

    /// A DICOM port another process holds: the gateway never says it listens, and exits with the reason.
    @Test func aPortAlreadyTakenEndsTheGatewayWithTheReason() throws {
        let environment = try TestEnvironment.get()
        var (configuration, _) = try Self.configuration("gateway-port-taken")
        let holder = try ChildProcess.spawn("/usr/bin/storescp", [String(configuration.gateway.dicom.port)],
                                            outputPath: environment.root.appending(path: "gateway-port-taken-holder.log").path)
        defer { kill(holder, SIGKILL); _ = ChildProcess.wait(holder) }
        #expect(try eventually(timeout: .seconds(10)) {
            try ChildProcess.run("/usr/bin/echoscu", ["127.0.0.1", String(configuration.gateway.dicom.port)]).status == 0
        })
        configuration.gateway.hl7.enabled = false
        let file = environment.root.appending(path: "gateway-port-taken.json")
        try JSONEncoder().encode(configuration).write(to: file)
        let run = try ChildProcess.run(Paths.binary.path, ["gateway", "--config", file.path])
        #expect(run.status != 0 && run.output.contains("DICOM listener") && !run.output.contains("gateway: listening"), "\(run.output)")
    }

    @Test func anORUBecomesAReportEventAndWhatIsNotOneIsRefusedAndKeptAsADeadLetter() throws {
        let environment = try TestEnvironment.get()
        var (configuration, _) = try Self.configuration("gateway-hl7")
        configuration.gateway.hl7.maxConnections = 2
        let gateway = try GatewayProcess(configuration: configuration, directory: environment.root)
        defer { gateway.stop(with: SIGTERM) }
        let client = try MLLPClient(port: try #require(gateway.hl7Port))
        let expected = ["oru-final.hl7": "AA", "oru-formatted-text.hl7": "AA", "oru-preliminary.hl7": "AA",
                        "oru-without-study.hl7": "AR", "adt-admit.hl7": "AR", "not-hl7.hl7": "AR"]
        for (fixture, code) in expected.sorted(by: { $0.key < $1.key }) {
            let ack = try client.send(Self.fixture(fixture))
            #expect(acknowledgementCode(ack) == code, "\(fixture): \(ack)")
            if code == "AR" { #expect(ack.contains { $0.first == "ERR" }, "\(fixture)") }
        }
        // Sent again on a new connection (the ACK was lost): acknowledged, the same event id.
        #expect(acknowledgementCode(try MLLPClient(port: try #require(gateway.hl7Port)).send(Self.fixture("oru-final.hl7"))) == "AA")

        let reports = try TopicRecord.read(configuration.kafka.reportTopic, bootstrap: configuration.kafka.bootstrapServers)
        #expect(reports.compactMap { $0.json?["event_id"] as? String }.sorted() == ["hl7:GENHOSP:MSG0001", "hl7:GENHOSP:MSG0001", "hl7:GENHOSP:MSG0002"])
        let final = try #require(reports.first { $0.json?["event_id"] as? String == "hl7:GENHOSP:MSG0001" })
        #expect(final.key == "1.2.826.0.1.3680043.8.498.10001" && final.json?["report_id"] as? String == "ACC0001")
        #expect((final.json?["body"] as? String)?.contains("IMPRESSION:\nNo acute cardiopulmonary disease.") == true)

        let deadLetters = try TopicRecord.read(configuration.deadLetterTopic(for: configuration.kafka.reportTopic),
                                               bootstrap: configuration.kafka.bootstrapServers)
        #expect(deadLetters.compactMap { $0.headers["radstream.error.code"] }.sorted() == ["hl7_malformed", "hl7_missing_field", "hl7_unsupported_message"])
        #expect(deadLetters.allSatisfy { $0.headers["radstream.origin"] == "gateway" && $0.headers["radstream.error.message"]?.isEmpty == false })
        // The refused message's own bytes are kept.
        #expect(deadLetters.contains { $0.payload.contains("MSG0004") })

        // With two connections open (the bound here), a third is closed at once, unanswered. (The
        // second is retried until served: the resend's connection above is let go when its
        // thread sees it closed.)
        let port = try #require(gateway.hl7Port)
        var second: MLLPClient?
        #expect(try eventually(timeout: .seconds(5)) {
            let candidate = try MLLPClient(port: port)
            guard (try? candidate.send(Self.fixture("oru-preliminary.hl7"))).flatMap(acknowledgementCode) == "AA" else { return false }
            second = candidate
            return true
        })
        #expect(throws: TestFailure.self) { try MLLPClient(port: port).send(Self.fixture("oru-preliminary.hl7")) }
        withExtendedLifetime(second) {}
        #expect(acknowledgementCode(try client.send(Self.fixture("oru-preliminary.hl7"))) == "AA", "the open ones are served still")
    }

    @Test func withKafkaDownSendersHearAFailureAndNothingIsKeptUntilItIsBack() throws {
        let environment = try TestEnvironment.get()
        // A cluster of its own: the other suites' brokers stay up.
        let broker = try EmbeddedBroker(brokers: 1)
        var (configuration, root) = try Self.configuration("gateway-kafka-down", broker: broker)
        configuration.gateway.acknowledgementSeconds = 3
        let gateway = try GatewayProcess(configuration: configuration, directory: environment.root)
        defer { gateway.stop(with: SIGTERM) }
        let files = try DicomSamples.make(3, study: DicomSamples.newUID(), in: environment.root.appending(path: "gateway-kafka-down-files"))
        #expect(try StoreOutcome.send([files[0]], port: gateway.dicomPort).succeeded(files[0]))

        try broker.setBroker(1, up: false)
        let refused = try StoreOutcome.send([files[1]], port: gateway.dicomPort)
        #expect(refused.responses[files[1].path] == 0xA700, "\(refused.output.suffix(1500))")
        #expect(refused.comments[files[1].path]?.hasPrefix("Kafka did not acknowledge") == true)
        let report = try Self.fixture("oru-final.hl7")
        #expect(acknowledgementCode(try MLLPClient(port: try #require(gateway.hl7Port)).send(report)) == "AE")
        #expect(Self.storedFiles(root).count == 1, "the refused instance is not kept: \(Self.storedFiles(root))")

        try broker.setBroker(1, up: true)
        #expect(try StoreOutcome.send([files[1], files[2]], port: gateway.dicomPort).responses.values.allSatisfy { $0 == 0 })
        #expect(acknowledgementCode(try MLLPClient(port: try #require(gateway.hl7Port)).send(report)) == "AA")
        #expect(Self.storedFiles(root).count == 3)
        let images = try TopicRecord.read(configuration.kafka.imageTopic, bootstrap: broker.bootstrapServers)
        #expect(images.count == 3)
        #expect(try TopicRecord.read(configuration.kafka.reportTopic, bootstrap: broker.bootstrapServers).count == 1)
    }

    @Test func aGatewayKilledMidTransferHasEveryAcknowledgedInstanceOnKafkaOnce() throws {
        let environment = try TestEnvironment.get()
        let (configuration, root) = try Self.configuration("gateway-sigkill")
        let gateway = try GatewayProcess(configuration: configuration, directory: environment.root)
        let files = try DicomSamples.make(150, study: DicomSamples.newUID(), in: environment.root.appending(path: "gateway-sigkill-files"))
        let log = environment.root.appending(path: "gateway-sigkill-storescu.log")
        let sender = try ChildProcess.spawn("/usr/bin/storescu", ["-d", "-xy", "-aec", "RADSTREAM", "127.0.0.1", String(gateway.dicomPort)]
                                            + files.map(\.path), outputPath: log.path)
        func acknowledged() -> [String] {
            StoreOutcome.parse((try? String(contentsOf: log, encoding: .utf8)) ?? "").responses.filter { $0.value == 0 }.map(\.key)
        }
        #expect(try eventually(timeout: .seconds(60), every: .milliseconds(20)) { acknowledged().count >= 10 })
        gateway.stop(with: SIGKILL)
        _ = ChildProcess.wait(sender)

        let acknowledgedFiles = acknowledged()
        #expect(acknowledgedFiles.count < files.count, "the gateway was killed mid-transfer")
        let ids = try TopicRecord.read(configuration.kafka.imageTopic, bootstrap: configuration.kafka.bootstrapServers)
            .compactMap { $0.json?["event_id"] as? String }
        for file in acknowledgedFiles {
            let instance = try #require(try DicomSamples.value("0008,0018", of: URL(filePath: file)))
            #expect(ids.filter { $0 == "dicom:\(instance)" }.count == 1, "\(file)")
            #expect(Self.storedFiles(root).contains { $0.hasSuffix("/\(instance).dcm") })
        }

        // Started again, it clears what was half-received and takes the rest.
        let restarted = try GatewayProcess(configuration: configuration, directory: environment.root)
        defer { restarted.stop(with: SIGTERM) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appending(path: ".incoming").path).isEmpty)
        let rest = files.filter { !acknowledgedFiles.contains($0.path) }
        #expect(try StoreOutcome.send(rest, port: restarted.dicomPort).responses.values.allSatisfy { $0 == 0 })
        #expect(Self.storedFiles(root).count == files.count)
    }

    @Test func theDaemonJoinsTheGatewaysImageAndReportByTheirStudy() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("gateway_end_to_end")
        var (configuration, _) = try Self.configuration("gateway-end-to-end", conninfo: conninfo)
        // The hospital's PACS, where the SRs go too: DCMTK's own storescp.
        let pacsFolder = environment.root.appending(path: "gateway-end-to-end-pacs")
        try? FileManager.default.removeItem(at: pacsFolder)
        try FileManager.default.createDirectory(at: pacsFolder, withIntermediateDirectories: true)
        let pacsPort = try LoopbackPort.free()
        let pacs = try ChildProcess.spawn("/usr/bin/storescp", ["-aet", "PACS", "-od", pacsFolder.path, String(pacsPort)],
                                          outputPath: environment.root.appending(path: "gateway-end-to-end-pacs.log").path)
        defer { kill(pacs, SIGKILL); _ = ChildProcess.wait(pacs) }
        configuration.results.dicomDestination = .init(aeTitle: "PACS", host: "127.0.0.1", port: pacsPort, callingAETitle: "RADSTREAM",
                                                       timeoutSeconds: 10)
        let daemon = try DaemonProcess(configuration: configuration, directory: environment.root)
        defer { daemon.stop(with: SIGTERM) }
        let gateway = try GatewayProcess(configuration: configuration, directory: environment.root)
        defer { gateway.stop(with: SIGTERM) }

        let study = DicomSamples.newUID()
        let image = try DicomSamples.make(1, study: study, in: environment.root.appending(path: "gateway-end-to-end-files"))
        #expect(try StoreOutcome.send(image, port: gateway.dicomPort).succeeded(image[0]))
        let report = try Self.fixture("oru-final.hl7").replacing("1.2.826.0.1.3680043.8.498.10001", with: study)
        #expect(acknowledgementCode(try MLLPClient(port: try #require(gateway.hl7Port)).send(report)) == "AA")

        #expect(try eventually(timeout: .seconds(90)) { let counts = try Counts.read(conninfo); return counts.images == 1 && counts.reports == 1 },
                "\(daemon.output.suffix(2000))")
        let database = try PostgresConnection(conninfo)
        let instance = try #require(try DicomSamples.value("0008,0018", of: image[0]))
        let images = try database.execute("SELECT study_id, image_id, format, width FROM images").rows
        #expect(images.map { $0.map { $0 ?? "" } } == [[study, instance, "dicom", "1024"]])
        let reports = try database.execute("SELECT study_id, report_id, findings, impression FROM reports").rows
        #expect(reports.map { $0.map { $0 ?? "" } } == [[study, "ACC0001",
            "The heart is normal in size. The mediastinum is unremarkable. The lungs are clear without focal consolidation, effusion or pneumothorax.",
            "No acute cardiopulmonary disease."]])
        // The image model has read the film the PACS sent.
        #expect(try database.execute("SELECT count(*) FROM image_predictions").scalarInt ?? 0 >= 1)

        // Its result goes back: a FHIR DiagnosticReport and an SR that references the instance,
        // on the results topic keyed by the study, and the outbox row marked published.
        let documents = try consumeRecords(configuration.results.topic, bootstrap: configuration.kafka.bootstrapServers, count: 2)
        #expect(documents.count == 2 && documents.allSatisfy { $0.keyString == study })
        func header(_ record: KafkaMessage, _ name: String) -> String? {
            record.headers.first { $0.0 == name }.map { String(decoding: $0.1, as: UTF8.self) }
        }
        let fhir = try #require(documents.first { header($0, "radstream.document") == "fhir" })
        let diagnostic = try #require(try JSONSerialization.jsonObject(with: Data(fhir.value)) as? [String: Any])
        #expect(diagnostic["resourceType"] as? String == "DiagnosticReport" && diagnostic["status"] as? String == "preliminary")
        #expect(((diagnostic["contained"] as? [[String: Any]])?.count ?? 0) == 2, "an Observation per shipped classifier")
        let sr = try #require(documents.first { header($0, "radstream.document") == "sr" })
        #expect(header(sr, "content-type") == "application/dicom" && header(sr, "radstream.document.id") == diagnostic["id"] as? String)
        let file = environment.root.appending(path: "gateway-end-to-end.sr.dcm")
        try Data(sr.value).write(to: file)
        let tree = try ChildProcess.run("/usr/bin/dsrdump", ["+Pc", "+Pu", file.path]).output
        for expected in ["Comprehensive SR Document", #"(111001,DCM,"Algorithm Name")="pneumonia""#, #"(111001,DCM,"Algorithm Name")="covid""#,
                         "Probability of", instance] {
            #expect(tree.contains(expected), "\(expected)\n\(tree)")
        }
        #expect(try DicomSamples.value("0020,000d", of: file) == study, "the SR is of the image's study")
        #expect(try eventually(timeout: .seconds(10)) {
            try database.execute("SELECT count(*) FROM result_outbox WHERE published_at IS NOT NULL").scalarInt == 1
        })

        // And the PACS has stored the same SR instance, sent by C-STORE.
        #expect(try eventually(timeout: .seconds(20)) {
            try database.execute("SELECT count(*) FROM result_outbox WHERE sr_sent_at IS NOT NULL").scalarInt == 1
        }, "\(daemon.output.suffix(1500))")
        let stored = try FileManager.default.contentsOfDirectory(at: pacsFolder, includingPropertiesForKeys: nil)
        #expect(stored.count == 1)
        let storedInstance = try stored.first.flatMap { try DicomSamples.value("0008,0018", of: $0) }
        let publishedInstance = try DicomSamples.value("0008,0018", of: file)
        #expect(storedInstance != nil && storedInstance == publishedInstance)
    }
}
