import Events
import Foundation
import Kafka
import Postgres
import Testing
@testable import Pipeline

@Suite("Dead letters, end to end", .serialized)
struct DeadLetterIntegrationTests {
    /// A bad event of each kind, the topic it is sent to, and the code it must be dead-lettered with.
    static func corpus(root: URL, outside: URL) -> [(name: String, topic: EventKind, bytes: [UInt8], code: String)] {
        let corruptPNG = Array(Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0x42, count: 300)))
        func image(_ fields: String) -> [UInt8] {
            Array("{\"schema\":\"radstream.image.v1\",\"event_id\":\"bad\",\"study_id\":\"s\",\"image_id\":\"i\",\(fields)}".utf8)
        }
        func report(_ body: String) -> [UInt8] {
            Array("{\"schema\":\"radstream.report.v1\",\"event_id\":\"bad\",\"study_id\":\"s\",\"report_id\":\"r\",\"format\":\"text\",\"body\":\(body)}".utf8)
        }
        return [
            ("malformed JSON", .report, Array("{\"schema\": \"radstream.report.v1\", ".utf8), "malformed_json"),
            ("not an object", .image, Array("[1, 2, 3]".utf8), "malformed_json"),
            ("unknown schema version", .image, Array("{\"schema\":\"radstream.image.v9\",\"event_id\":\"x\"}".utf8), "unknown_schema"),
            ("no schema", .report, Array("{\"event_id\":\"x\"}".utf8), "unknown_schema"),
            ("missing field", .report, Array("{\"schema\":\"radstream.report.v1\",\"event_id\":\"x\"}".utf8), "invalid_field"),
            ("corrupt image", .image, image("\"inline\":\"\(Data(corruptPNG).base64EncodedString())\""), "image_undecodable"),
            ("not an image", .image, image("\"inline\":\"\(Data("hello".utf8).base64EncodedString())\""), "image_undecodable"),
            ("path traversal", .image, image("\"uri\":\"file://\(root.path)/../../../etc/passwd\""), "source_refused"),
            ("symlink out of the root", .image, image("\"uri\":\"file://\(root.path)/escape/passwd\""), "source_refused"),
            ("file outside the roots", .image, image("\"uri\":\"file://\(outside.path)\""), "source_refused"),
            ("http URI", .image, image("\"uri\":\"http://example.org/x.png\""), "source_refused"),
            ("missing file", .image, image("\"uri\":\"file://\(root.path)/nope.png\""), "source_unreadable"),
            ("oversized inline image", .image, image("\"inline\":\"\(String(repeating: "A", count: 200_000))\""), "payload_too_large"),
            ("empty report", .report, report("\"   \""), "report_empty"),
            ("report with NUL", .report, report("\"FINDINGS: clear\\u0000\""), "report_unreadable"),
            ("broken IU XML", .report, Array("{\"schema\":\"radstream.report.v1\",\"event_id\":\"x\",\"study_id\":\"s\",\"report_id\":\"r\",\"format\":\"iu-xml\",\"body\":\"<eCitation><Abstract>\"}".utf8), "report_unreadable"),
            ("bad label", .image, image("\"uri\":\"file://\(root.path)/a.png\",\"labels\":{\"pneumonia\":7}"), "invalid_field"),
        ]
    }

    @Test func everyBadEventIsDeadLetteredAndEveryGoodOneProcessed() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("dead_letters")
        var configuration = try environment.configuration(name: "dead-letters", conninfo: conninfo)
        // The allowed root, with a symbolic link that points out of it.
        let root = environment.root.appending(path: "images-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.appending(path: "escape").path, withDestinationPath: "/etc")
        let outside = environment.root.appending(path: "outside.png")
        try Data(contentsOf: Paths.data.appending(path: "pneumoniamnist/val/val_00000.png")).write(to: outside)
        configuration.images.allowedRoots = [root.path]
        configuration.images.maxInlineBytes = 64 * 1024

        let corpus = Self.corpus(root: root, outside: outside)
        let factory = try EventFactory()
        let producer = try EventFactory.producer(for: environment.broker.bootstrapServers)
        var good = 0
        for (index, bad) in corpus.enumerated() {
            // Good events on either side of every bad one: the stream must go on past it.
            for offset in 0..<4 {
                let event = try factory.event(index * 4 + offset)
                let topic = if case .image = event { configuration.kafka.imageTopic } else { configuration.kafka.reportTopic }
                try producer.send(topic: topic, key: Array(event.studyID.utf8), value: event.encoded())
                good += 1
            }
            let topic = bad.topic == .image ? configuration.kafka.imageTopic : configuration.kafka.reportTopic
            try producer.send(topic: topic, key: Array("bad-\(index)".utf8), value: bad.bytes)
        }
        try producer.flush()

        let daemon = try InProcessDaemon(configuration: configuration)
        let done = try eventually(timeout: .seconds(90)) { try Counts.read(conninfo).total >= good + corpus.count }
        daemon.stop()
        #expect(daemon.failure == nil)
        #expect(done)
        let counts = try Counts.read(conninfo)
        #expect(counts.images + counts.reports == good)
        #expect(counts.deadLetters == corpus.count)

        // Each bad event is in the table with the reason expected of it, keyed as it was sent.
        let database = try PostgresConnection(conninfo)
        let rows = try database.execute("SELECT message_key, error_code, error, payload IS NOT NULL, payload_bytes FROM dead_letters")
        var codeByKey: [String: String] = [:]
        for row in rows.rows { codeByKey[row[0] ?? ""] = row[1] }
        for (index, bad) in corpus.enumerated() {
            #expect(codeByKey["bad-\(index)"] == bad.code, "\(bad.name)")
        }
        #expect(rows.rows.allSatisfy { !($0[2] ?? "").isEmpty }, "every dead letter says why")

        // And each is on <topic>.dlq, byte for byte, with its origin and reason in headers.
        let dlq = try Self.drain(topics: configuration.topics.map(configuration.deadLetterTopic(for:)),
                            bootstrap: environment.broker.bootstrapServers, expecting: corpus.count)
        #expect(dlq.count == corpus.count)
        for message in dlq {
            let headers = Dictionary(message.headers.map { ($0.0, String(decoding: $0.1, as: UTF8.self)) }, uniquingKeysWith: { a, _ in a })
            let index = Int(message.keyString?.dropFirst(4) ?? "") ?? -1
            #expect(corpus.indices.contains(index))
            if corpus.indices.contains(index) {
                #expect(message.value == corpus[index].bytes)
                #expect(headers["radstream.error.code"] == corpus[index].code)
            }
            #expect(headers["radstream.origin.topic"].map(configuration.topics.contains) == true)
            #expect(headers["radstream.origin.offset"].flatMap(Int.init) != nil)
        }
    }

    /// Reads every record of `topics` from the beginning, up to `expecting` or a timeout.
    static func drain(topics: [String], bootstrap: String, expecting: Int) throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(configuration: KafkaConfiguration([
            "bootstrap.servers": bootstrap, "group.id": "dlq-reader-\(UUID().uuidString)",
        ]), handler: nil)
        try consumer.subscribe(topics)
        var messages: [KafkaMessage] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while messages.count < expecting && ContinuousClock.now < deadline {
            if case .message(let message)? = consumer.poll(timeout: .milliseconds(200)) { messages.append(message) }
        }
        consumer.close()
        return messages
    }
}
