import Events
import Kafka
import Postgres

/// Writes a processed batch and the consumer offsets it advances in one transaction, so that a
/// result exists exactly when its offset says it was consumed.
///
/// Fencing: the stored offset of every partition in the batch is locked (`FOR UPDATE`) and any
/// record below it is skipped — a batch replayed after a crash, or by a consumer whose partition
/// has moved on, writes nothing twice. Results are also unique by (topic, partition, offset).
///
/// Identity: an event is its `event_id`. A copy of one already written (a producer's retry, a
/// replay, the same event on another partition) writes nothing and is counted as a duplicate.
///
/// Outbox: with `outbox`, each new classified image also writes the row of its result in
/// `result_outbox`, for `ResultPublisher` to send back to the hospital.
public struct ResultWriter {
    public let group: String
    public let outbox: Bool

    public init(group: String, outbox: Bool = false) {
        self.group = group
        self.outbox = outbox
    }

    public struct Summary: Equatable, Sendable {
        public var images = 0
        public var reports = 0
        /// Dead letters written, by code (a record fenced off or already on the table is not).
        public var deadLetterCodes: [String: Int] = [:]
        public var deadLetters: Int { deadLetterCodes.values.reduce(0, +) }
        public var skipped = 0
        /// Events whose `event_id` was already written (at another offset or partition).
        public var duplicates = 0

        public static func + (a: Summary, b: Summary) -> Summary {
            Summary(images: a.images + b.images, reports: a.reports + b.reports,
                    deadLetterCodes: a.deadLetterCodes.merging(b.deadLetterCodes, uniquingKeysWith: +),
                    skipped: a.skipped + b.skipped, duplicates: a.duplicates + b.duplicates)
        }
    }

    /// Writes `events` and moves each partition's stored offset to `next` (the next offset to
    /// read), in two round trips whatever the batch's size: the offset locks, then every insert
    /// and the offset updates, pipelined.
    public func write(_ events: [ProcessedEvent], advancing next: [TopicPartition: Int64],
                      on connection: PostgresConnection) throws -> Summary {
        let partitions = Array(next.keys)
        return try connection.transaction { connection in
            let locked = try connection.pipeline(partitions.map { partition in
                ("""
                 SELECT next_offset FROM consumer_offsets
                 WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3 FOR UPDATE
                 """, [.text(group), .text(partition.topic), .int(partition.partition)])
            })
            var stored: [TopicPartition: Int64] = [:]
            for (partition, rows) in zip(partitions, locked) {
                if let value = rows.scalar.flatMap({ Int64($0) }) { stored[partition] = value }
            }

            var summary = Summary()
            var statements: [(sql: String, parameters: [PostgresValue])] = []
            // What each result statement inserts: its answer says whether the event was new.
            var results: [(index: Int, kind: EventKind)] = []
            var letters: [(index: Int, code: String)] = []
            for event in events {
                if let floor = stored[event.source.topicPartition], event.source.offset < floor {
                    summary.skipped += 1
                    continue
                }
                switch event.payload {
                case .image(let record):
                    results.append((statements.count, .image))
                    statements.append(Self.insert(record, from: event.source, outbox: outbox))
                case .report(let record):
                    results.append((statements.count, .report))
                    statements.append(Self.insert(record, from: event.source))
                case .deadLetter(let letter):
                    letters.append((statements.count, letter.code))
                    statements.append(Self.insert(letter, raw: event.raw, from: event.source))
                }
            }
            for (partition, offset) in next {
                statements.append(AttemptLog(group: group).forget(partition, below: offset))
                statements.append(("""
                    INSERT INTO consumer_offsets (consumer_group, topic, kafka_partition, next_offset)
                    VALUES ($1, $2, $3, $4)
                    ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE
                    SET next_offset = GREATEST(consumer_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()
                    """, [.text(group), .text(partition.topic), .int(partition.partition), .int(offset)]))
            }
            let answers = try connection.pipeline(statements)
            for (index, kind) in results {
                let inserted = kind == .image ? answers[index].scalarInt == 1 : answers[index].affected == 1
                switch (inserted, kind) {
                case (false, _): summary.duplicates += 1
                case (true, .image): summary.images += 1
                case (true, .report): summary.reports += 1
                }
            }
            for (index, code) in letters where answers[index].affected == 1 { summary.deadLetterCodes[code, default: 0] += 1 }
            return summary
        }
    }

    /// The image row, its thumbnails and its predictions in one statement, so that it can be
    /// pipelined: the dependent rows hang off the id that the INSERT returns (none when the row
    /// already existed).
    static func insert(_ record: ImageRecord, from source: EventSource, outbox: Bool = false) -> (sql: String, parameters: [PostgresValue]) {
        var parameters: [PostgresValue] = [
            .text(source.topic), .int(source.partition), .int(source.offset), .text(record.eventID),
            .text(record.studyID), .text(record.imageID), .text(record.source), .text(record.format),
            .int(record.width), .int(record.height), .int(record.sourceBitDepth),
            .optional(record.photometric), .optional(record.labelsJSON), .optional(record.generatedImpression),
            .optional(record.captionerVersion), record.generatedStatesPneumonia.map { .text($0 ? "true" : "false") } ?? .null,
        ]
        let insertImage = """
            INSERT INTO images (topic, kafka_partition, kafka_offset, event_id, study_id, image_id, source, format,
                                width, height, source_bit_depth, photometric, labels, generated_impression, captioner_version,
                                generated_states_pneumonia)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, $16::boolean)
            ON CONFLICT DO NOTHING
            """
        /// `($n::type, …)` rows of VALUES for the given parameters, appended to `parameters`.
        func values(_ rows: [[(PostgresValue, String)]]) -> String {
            rows.map { row in
                "(" + row.map { value, type in
                    parameters.append(value)
                    return "$\(parameters.count)::\(type)"
                }.joined(separator: ", ") + ")"
            }.joined(separator: ", ")
        }
        var dependents: [String] = []
        let thumbnails = record.thumbnails.sorted { $0.key < $1.key }
        if !thumbnails.isEmpty {
            dependents.append("""
                INSERT INTO image_pixels (image_id, side, pixels)
                SELECT image.id, kept.side, kept.pixels FROM image,
                (VALUES \(values(thumbnails.map { [(.int($0.key), "integer"), (.bytea($0.value), "bytea")] }))) AS kept (side, pixels)
                """)
        }
        if !record.predictions.isEmpty {
            dependents.append("""
                INSERT INTO image_predictions (image_id, model, model_version, probabilities, decision, saliency_png,
                                               applicable, applicability)
                SELECT image.id, p.model, p.version, p.probabilities, p.decision, p.saliency, p.applicable, p.applicability FROM image,
                (VALUES \(values(record.predictions.map {
                    [(.text($0.model), "text"), (.text($0.modelVersion), "text"), (.text(JSONColumn.text($0.probabilities)), "jsonb"),
                     (.text($0.decision), "text"), (.bytea($0.saliencyPNG), "bytea"),
                     ($0.applicable.map { .text($0 ? "true" : "false") } ?? .null, "boolean"),
                     ($0.applicability.map { .text("\($0)") } ?? .null, "real")]
                }))) AS p (model, version, probabilities, decision, saliency, applicable, applicability)
                """)
        }
        if outbox && !record.predictions.isEmpty {
            parameters.append(record.dicom.map { .text(JSONColumn.text($0)) } ?? .null)
            dependents.append("INSERT INTO result_outbox (image_id, study_id, dicom) SELECT image.id, $5, $\(parameters.count)::jsonb FROM image")
        }
        // The answer is the number of image rows inserted: 0 when the event was already written.
        // (Data-modifying WITH clauses run whether or not the final SELECT reads them.)
        let ctes = ["image AS (\(insertImage) RETURNING id)"] + dependents.enumerated().map { "rows\($0.offset) AS (\($0.element))" }
        return ("WITH \(ctes.joined(separator: ",\n")) SELECT count(*) FROM image", parameters)
    }

    static func insert(_ record: ReportRecord, from source: EventSource) -> (sql: String, parameters: [PostgresValue]) {
        let sections = record.sections
        let observations = record.observations.map { JSONColumn.text(Dictionary(uniqueKeysWithValues: $0.map { ($0.key.rawValue, $0.value.rawValue) })) }
        return ("""
            INSERT INTO reports (topic, kafka_partition, kafka_offset, event_id, study_id, report_id, format,
                                 findings, impression, indication, comparison, technique, labels, observations, labeler_version,
                                 generated_impression, summarizer_version, impression_disagreements)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14::jsonb, $15, $16, $17, $18::jsonb)
            ON CONFLICT DO NOTHING
            """, [.text(source.topic), .int(source.partition), .int(source.offset), .text(record.eventID),
                  .text(record.studyID), .text(record.reportID), .text(record.format),
                  .optional(sections.findings), .optional(sections.impression), .optional(sections.indication),
                  .optional(sections.comparison), .optional(sections.technique), .optional(record.labelsJSON),
                  .optional(observations), .optional(record.labelerVersion), .optional(record.generatedImpression),
                  .optional(record.summarizerVersion),
                  .optional(record.impressionDisagreements.map { JSONColumn.text($0.map(\.rawValue)) })])
    }

    /// Payloads up to this size are kept whole in the dead-letter row; larger ones only by hash.
    static let maxStoredPayload = 64 * 1024

    static func insert(_ letter: DeadLetter, raw: [UInt8], from source: EventSource) -> (sql: String, parameters: [PostgresValue]) {
        // PostgreSQL hashes the payload itself, so no hashing code lives here.
        ("""
            INSERT INTO dead_letters (topic, kafka_partition, kafka_offset, message_key, payload, payload_sha256,
                                      payload_bytes, error_code, error)
            VALUES ($1, $2, $3, $4, CASE WHEN length($5::bytea) <= $6 THEN $5::bytea END,
                    encode(sha256($5::bytea), 'hex'), length($5::bytea), $7, $8)
            ON CONFLICT (topic, kafka_partition, kafka_offset) DO NOTHING
            """, [.text(source.topic), .int(source.partition), .int(source.offset), .optional(source.key),
                  .bytea(raw), .int(Self.maxStoredPayload), .text(letter.code), .text(letter.reason)])
    }
}
