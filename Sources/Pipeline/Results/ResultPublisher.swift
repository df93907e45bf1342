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
    private let producer: KafkaProducer
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
        producer = try KafkaProducer(configuration: KafkaConfiguration(kafka).forProducer())
        destination = settings.dicomDestination.isConfigured ? StorageSCU(destination: settings.dicomDestination) : nil
        session = DatabaseSession("result publisher", conninfo: configuration.postgres.conninfo, status: status, logger: logger)
        (self.status, self.metrics, self.logger) = (status, metrics, logger)
    }

    /// Until the daemon stops.
    func run() {
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
            let rows = try connection.execute("""
                SELECT id, study_id, result::text, document_id::text, series_id::text FROM result_outbox
                WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
                """, [.int(settings.batchSize)]).rows
            guard !rows.isEmpty else { return 0 }
            var marks: [(id: String, error: String?)] = []
            var documents = (fhir: 0, sr: 0)
            for row in rows {
                guard let id = row[0], let study = row[1], let json = row[2], let document = row[3], let series = row[4] else { continue }
                let identity = DocumentIdentity(documentID: document, seriesID: series)
                let result: ImageResult
                do { result = try JSONDecoder().decode(ImageResult.self, from: Data(json.utf8)) } catch {
                    marks.append((id, "the stored result cannot be read: \(error)"))
                    continue
                }
                let headers = { (kind: String, type: String) -> [(String, [UInt8])] in
                    [("content-type", Array(type.utf8)), ("radstream.document", Array(kind.utf8)),
                     ("radstream.document.id", Array(document.utf8)), ("radstream.event", Array(result.eventID.utf8))]
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
            for mark in marks {
                try connection.execute("UPDATE result_outbox SET published_at = now(), last_error = $2 WHERE id = $1",
                                       [.text(mark.id), mark.error.map { .text($0) } ?? .null])
            }
            metrics.resultsPublished(fhir: documents.fhir, sr: documents.sr)
            return rows.count
        }
    }

    /// One batch of published rows' SRs by C-STORE, in one transaction: take, render, store, mark.
    private func send(_ connection: PostgresConnection, to destination: StorageSCU) throws -> Int {
        try connection.transaction { connection in
            let rows = try connection.execute("""
                SELECT id, result::text, document_id::text, series_id::text FROM result_outbox
                WHERE published_at IS NOT NULL AND sr_sent_at IS NULL AND sr_error IS NULL AND result ? 'dicom'
                ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
                """, [.int(settings.batchSize)]).rows
            guard !rows.isEmpty else { return 0 }
            let folder = FileManager.default.temporaryDirectory.appending(path: "radstream-sr-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            var files: [(id: String, file: URL)] = []
            for row in rows {
                guard let id = row[0], let json = row[1], let document = row[2], let series = row[3] else { continue }
                do {
                    let result = try JSONDecoder().decode(ImageResult.self, from: Data(json.utf8))
                    let file = folder.appending(path: "\(id).dcm")
                    try Data(StructuredReport.render(result, identity: DocumentIdentity(documentID: document, seriesID: series))).write(to: file)
                    files.append((id, file))
                } catch {
                    try connection.execute("UPDATE result_outbox SET sr_error = $2 WHERE id = $1", [.text(id), .text("no SR: \(error)")])
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
}
