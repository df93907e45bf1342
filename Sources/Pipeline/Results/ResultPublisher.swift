import Events
import Foundation
import Gateway
import Kafka
import Logging
import Postgres
import ResultDocuments

/// Sends the results back: takes the outbox's pending rows a batch at a time (locked, so that
/// another instance's publisher skips them), renders each as a FHIR DiagnosticReport and, when
/// the image came by C-STORE, a DICOM SR, publishes them to the results topic keyed by the
/// study, and marks the rows published in the same transaction once Kafka has acknowledged them
/// all. A crash before that mark publishes the batch again: the same documents, with the same
/// ids, which a consumer recognises; none is lost.
///
/// With `results.dicomDestination`, the SRs of published rows are also sent by C-STORE, one
/// association a batch, and marked stored (or refused, with the destination's status) in the
/// same way: a crash between the two sends the same SR instance again, which a PACS recognises.
final class ResultPublisher {
    private let settings: RadStreamConfiguration.Results
    private let kafka: KafkaConfiguration
    /// Made on the publisher's own thread, so that librdkafka's threads inherit its scheduling.
    private var producer: KafkaProducer!
    private let destination: StorageSCU?
    private let session: DatabaseSession
    private let status: DaemonStatus
    private let metrics: DaemonMetrics
    private let logger: Logger

    init(configuration: RadStreamConfiguration, status: DaemonStatus, metrics: DaemonMetrics, logger: Logger) throws {
        settings = configuration.results
        var kafka = configuration.kafka.properties
        kafka["bootstrap.servers"] = configuration.kafka.bootstrapServers
        kafka["acks"] = "all"
        kafka["enable.idempotence"] = "true"
        // A topic that never answers fails the batch in 30 s (librdkafka's default is 5 minutes); the outbox keeps it.
        if kafka["message.timeout.ms"] == nil { kafka["message.timeout.ms"] = "30000" }
        self.kafka = KafkaConfiguration(kafka)
        _ = try KafkaProducer(configuration: self.kafka)  // refused properties stop the start, not the thread
        destination = settings.dicomDestination.isConfigured ? StorageSCU(destination: settings.dicomDestination) : nil
        session = DatabaseSession("result publisher", conninfo: configuration.postgres.conninfo, status: status, logger: logger)
        (self.status, self.metrics, self.logger) = (status, metrics, logger)
    }

    /// Until the daemon stops; behind the stream when both want a core (Linux's idle class, for
    /// its producer's threads too): measured at saturation, the stream kept 0.76 of its rate with
    /// the publisher at nice 10 beside it. The outbox holds what waits, `radstream_results_pending`
    /// shows it, and it goes back as soon as the stream eases.
    func run() {
        DaemonThreads.idleSchedulingOfCallingThread()
        do { producer = try KafkaProducer(configuration: kafka) } catch {
            logger.critical("results: cannot make the producer: \(error)")
            return
        }
        let sending = destination.map { " and its SRs to \($0.destination.aeTitle)@\($0.destination.host):\($0.destination.port)" } ?? ""
        logger.info("results: publishing the outbox to \(settings.topic)\(sending)")
        while !status.stopRequested {
            do {
                let published = try session.run("result publishing", batch)
                let sent = try destination.map { destination in try session.run("result SR sending") { try send($0, to: destination) } } ?? 0
                if published < settings.batchSize && sent < settings.batchSize { status.sleep(.milliseconds(settings.checkMilliseconds)) }
            } catch is DatabaseSession.Stopped {
                return
            } catch {
                logger.error("results: \(error); the outbox keeps them for the next attempt")
                status.sleep(.seconds(5))
            }
        }
    }

    /// One batch in one transaction: take, render, publish, wait for Kafka, mark. Returns the rows taken.
    private func batch(_ connection: PostgresConnection) throws -> Int {
        try connection.transaction { connection in
            let rows = try Self.pending(connection, "published_at IS NULL", limit: settings.batchSize)
            metrics.resultsPending(try connection.execute("SELECT count(*) FROM result_outbox WHERE published_at IS NULL").scalarInt ?? 0)
            guard !rows.isEmpty else { return 0 }
            var marks: [(id: String, error: String?)] = []
            var documents = (fhir: 0, sr: 0)
            for row in rows {
                let (id, study, identity) = (row.id, row.studyID, row.identity)
                let result: ImageResult
                switch row.facts {
                case .success(let read): result = read
                case .failure(let error):
                    marks.append((id, "the stored result cannot be read: \(error)"))
                    continue
                }
                let headers = { (kind: String, type: String) -> [(String, [UInt8])] in
                    [("content-type", Array(type.utf8)), ("radstream.document", Array(kind.utf8)),
                     ("radstream.document.id", Array(identity.documentID.utf8)), ("radstream.event", Array(result.eventID.utf8))]
                }
                try producer.send(topic: settings.topic, key: Array(study.utf8),
                                  value: FHIRDiagnosticReport.render(result, identity: identity, issued: Date()),
                                  headers: headers("fhir", "application/fhir+json"), waitingAtMost: .seconds(30))
                documents.fhir += 1
                var failure: String?
                if result.dicom != nil {
                    do {
                        try producer.send(topic: settings.topic, key: Array(study.utf8),
                                          value: StructuredReport.render(result, identity: identity),
                                          headers: headers("sr", "application/dicom"), waitingAtMost: .seconds(30))
                        documents.sr += 1
                    } catch let error as StructuredReport.Failure {
                        failure = "\(error)"
                        logger.error("results: no SR for \(result.eventID): \(error)")
                    }
                }
                marks.append((id, failure))
            }
            // Marked only once Kafka has every document of the batch: a failure rolls the marks back.
            try producer.flush(timeout: .seconds(60))
            let clean = marks.filter { $0.error == nil }.map(\.id)
            try connection.execute("UPDATE result_outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
                                   [.text("{" + clean.joined(separator: ",") + "}")])
            for mark in marks where mark.error != nil {
                try connection.execute("UPDATE result_outbox SET published_at = now(), last_error = $2 WHERE id = $1",
                                       [.text(mark.id), .text(mark.error!)])
            }
            metrics.resultsPublished(fhir: documents.fhir, sr: documents.sr)
            return rows.count
        }
    }

    /// One batch of published rows' SRs by C-STORE, in one transaction: take, render, store, mark.
    private func send(_ connection: PostgresConnection, to destination: StorageSCU) throws -> Int {
        try connection.transaction { connection in
            let rows = try Self.pending(connection, "published_at IS NOT NULL AND sr_sent_at IS NULL AND sr_error IS NULL AND dicom IS NOT NULL",
                                        limit: settings.batchSize)
            guard !rows.isEmpty else { return 0 }
            let folder = FileManager.default.temporaryDirectory.appending(path: "radstream-sr-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            var files: [(id: String, file: URL)] = []
            for row in rows {
                do {
                    let file = folder.appending(path: "\(row.id).dcm")
                    try Data(StructuredReport.render(row.facts.get(), identity: row.identity)).write(to: file)
                    files.append((row.id, file))
                } catch {
                    try connection.execute("UPDATE result_outbox SET sr_error = $2 WHERE id = $1", [.text(row.id), .text("no SR: \(error)")])
                }
            }
            let statuses = try destination.store(files.map(\.file), sopClassUID: StructuredReport.sopClassUID)
            var stored = 0
            for (row, status) in zip(files, statuses) {
                // Success, or a warning (0xB000, 0xB007, 0xB006: stored, with a coercion or without all elements).
                if status == 0 || status & 0xF000 == 0xB000 {
                    stored += 1
                    try connection.execute("UPDATE result_outbox SET sr_sent_at = now() WHERE id = $1", [.text(row.id)])
                } else {
                    let reason = "the destination refused the SR: status 0x\(String(status, radix: 16, uppercase: true))"
                    logger.error("results: \(reason)", metadata: ["outbox_row": "\(row.id)"])
                    try connection.execute("UPDATE result_outbox SET sr_error = $2 WHERE id = $1", [.text(row.id), .text(reason)])
                }
            }
            metrics.resultsSent(stored)
            return rows.count
        }
    }

    /// An outbox row with the facts of its image, read from the image's own rows.
    struct PendingRow {
        let id: String
        let identity: DocumentIdentity
        let studyID: String
        let facts: Result<ImageResult, any Error>
    }

    /// The oldest rows that `condition` selects, locked (another instance skips them), with
    /// their image's identifiers, impression and every classifier's reading.
    static func pending(_ connection: PostgresConnection, _ condition: String, limit: Int) throws -> [PendingRow] {
        try connection.execute("""
            SELECT o.id, o.study_id, o.document_id::text, o.series_id::text, o.dicom::text, i.event_id, i.image_id,
                   i.generated_impression, i.captioner_version,
                   (SELECT json_agg(json_build_object('model', p.model, 'version', p.model_version, 'probabilities', p.probabilities,
                                                      'decision', p.decision, 'applicable', p.applicable, 'applicability', p.applicability)
                                    ORDER BY p.model)
                    FROM image_predictions p WHERE p.image_id = i.id)::text
            FROM result_outbox o JOIN images i ON i.id = o.image_id
            WHERE \(condition) ORDER BY o.id LIMIT $1 FOR UPDATE OF o SKIP LOCKED
            """, [.int(limit)]).rows.compactMap { row -> PendingRow? in
            guard let id = row[0], let study = row[1], let document = row[2], let series = row[3] else { return nil }
            let facts = Result<ImageResult, any Error> {
                let decoder = JSONDecoder()
                return ImageResult(
                    eventID: row[5] ?? "", studyID: study, imageID: row[6] ?? "",
                    dicom: try row[4].map { try decoder.decode(DicomIdentifiers.self, from: Data($0.utf8)) },
                    findings: try decoder.decode([ImageResult.Finding].self, from: Data((row[9] ?? "[]").utf8)),
                    impression: row[7], captionerVersion: row[8])
            }
            return PendingRow(id: id, identity: DocumentIdentity(documentID: document, seriesID: series), studyID: study, facts: facts)
        }
    }
}
