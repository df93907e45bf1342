import Foundation
import Kafka
import Postgres
import TestSupport
import Testing
@testable import Pipeline

@Suite("Configuration: file, then environment")
struct ConfigurationTests {
    /// One rule, every key: each key of the configuration set through the variable the rule
    /// names for it takes the value given (a key that takes only some words refuses others by name).
    @Test func everyKeyHasAVariable() throws {
        #expect(RadStreamConfiguration.variableName(["images", "maxInlineBytes"]) == "RADSTREAM_IMAGES_MAX_INLINE_BYTES")
        #expect(RadStreamConfiguration.variableName(["selfTraining", "round", "learningRate"]) == "RADSTREAM_SELF_TRAINING_ROUND_LEARNING_RATE")
        func leaf(_ value: JSONValue, _ path: [String]) -> JSONValue? {
            guard let first = path.first else { return value }
            guard case .object(let members) = value, let member = members[first] else { return nil }
            return leaf(member, Array(path.dropFirst()))
        }
        let standard = try JSONValue(encoding: RadStreamConfiguration.standard)
        #expect(RadStreamConfiguration.keyVariables.count > 60)
        var words: [String] = []
        for (path, name) in RadStreamConfiguration.keyVariables {
            let (text, expected): (String, JSONValue) = switch leaf(standard, path) {
            case .bool(let flag)?: ("\(!flag)", .bool(!flag))
            case .number(let number)? where number == number.rounded(): ("7", .number(7))
            case .number?: ("0.25", .number(0.25))
            case .array(let items)?: if case .number? = items.first { ("3,5", .array([.number(3), .number(5)])) }
                                      else { ("a,b", .array([.string("a"), .string("b")])) }
            default: ("changed", .string("changed"))
            }
            do {
                let configuration = try RadStreamConfiguration.load(file: nil, environment: [name: text])
                #expect(leaf(try JSONValue(encoding: configuration), path) == expected, "\(name)=\(text)")
            } catch let error as ConfigurationError {
                // Only a key that takes certain words (a decoding, a source) may refuse a made-up one, by name.
                #expect(expected == .string("changed") && error.description.contains(name), "\(name): \(error)")
                words.append(name)
            }
        }
        #expect(words.count <= 5, "keys that take only certain words: \(words)")
    }

    /// `RADSTREAM_X_FILE` stands for `RADSTREAM_X` with the file's content: a secret never in
    /// the environment; both set, or an unreadable file, is an error that shows no secret.
    @Test func secretsComeFromFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let conninfo = directory.appending(path: "conninfo"), sasl = directory.appending(path: "sasl")
        try Data("host=db dbname=radstream password=hunter2\n".utf8).write(to: conninfo)
        try Data("s3cret\r\n".utf8).write(to: sasl)
        let configuration = try RadStreamConfiguration.load(file: nil, environment: [
            "RADSTREAM_POSTGRES_FILE": conninfo.path, "RADSTREAM_KAFKA_SASL_PASSWORD_FILE": sasl.path,
        ])
        #expect(configuration.postgres.conninfo == "host=db dbname=radstream password=hunter2")
        #expect(configuration.kafka.properties["sasl.password"] == "s3cret")
        #expect(configuration.kafka.properties["sasl.password.file"] == nil)
        #expect(throws: ConfigurationError.self) {
            try RadStreamConfiguration.load(file: nil, environment: ["RADSTREAM_POSTGRES": "x", "RADSTREAM_POSTGRES_FILE": conninfo.path])
        }
        do {
            _ = try RadStreamConfiguration.load(file: nil, environment: ["RADSTREAM_POSTGRES_FILE": directory.appending(path: "none").path])
            Issue.record("an unreadable secret file must be an error")
        } catch {
            #expect("\(error)".contains("RADSTREAM_POSTGRES_FILE: cannot read"))
        }
    }

    /// What `serve --print-config` shows: everything but the secrets.
    @Test func theMaskedConfigurationHidesEverySecret() throws {
        var configuration = RadStreamConfiguration.standard
        configuration.postgres.conninfo = #"host=db password='it\'s hunter2' dbname=radstream"#
        configuration.dashboard.conninfo = "postgresql://reader:hunter3@db/radstream"
        configuration.kafka.properties = ["sasl.password": "hunter4", "ssl.key.password": "hunter5", "session.timeout.ms": "6000"]
        let masked = configuration.masked
        let text = String(decoding: try JSONEncoder().encode(masked), as: UTF8.self)
        for secret in ["hunter2", "hunter3", "hunter4", "hunter5"] { #expect(!text.contains(secret), "\(secret) in \(text)") }
        #expect(masked.postgres.conninfo == "host=db password=(hidden) dbname=radstream")
        #expect(masked.dashboard.conninfo == "postgresql://reader:(hidden)@db/radstream")
        #expect(masked.kafka.properties["session.timeout.ms"] == "6000" && masked.kafka.properties["sasl.password"] == "(hidden)")
    }

    @Test func aPartialFileKeepsTheStandardValues() throws {
        let json = #"{"kafka": {"groupID": "west", "properties": {"security.protocol": "ssl"}}, "batch": {"maxEvents": 50}}"#
        let configuration = try RadStreamConfiguration.standard.merging(json: Data(json.utf8), source: "test")
        #expect(configuration.kafka.groupID == "west")
        #expect(configuration.kafka.imageTopic == "radstream.images")
        #expect(configuration.kafka.properties == ["security.protocol": "ssl"])
        #expect(configuration.batch == .init(maxEvents: 50, maxWaitMilliseconds: 200))
    }

    @Test func environmentOverridesTheFile() throws {
        var configuration = RadStreamConfiguration.standard
        try configuration.apply(environment: [
            "RADSTREAM_KAFKA_BOOTSTRAP": "k1:9092,k2:9092", "RADSTREAM_POSTGRES": "host=db",
            "RADSTREAM_IMAGE_ROOTS": "/a:/b", "RADSTREAM_BATCH_MAX_EVENTS": "64",
            "RADSTREAM_KAFKA_SESSION_TIMEOUT_MS": "6000", "PATH": "/bin",
            "RADSTREAM_SUMMARIZE_REPORTS": "true", "RADSTREAM_SUMMARY_DECODING": "Beam", "RADSTREAM_LABEL_REPORTS": "false",
            "RADSTREAM_SUMMARY_MEMORY": "/srv/reports",
        ])
        #expect(configuration.models.summarizeReports && configuration.models.summaryDecoding == .beam && !configuration.models.labelReports)
        #expect(configuration.models.summaryMemory.source == .folder && configuration.models.summaryMemory.folder == "/srv/reports")
        try configuration.apply(environment: ["RADSTREAM_SUMMARY_MEMORY": "None"])
        #expect(configuration.models.summaryMemory.source == .none)
        #expect(configuration.kafka.bootstrapServers == "k1:9092,k2:9092")
        #expect(configuration.postgres.conninfo == "host=db")
        #expect(configuration.images.allowedRoots == ["/a", "/b"])
        #expect(configuration.batch.maxEvents == 64)
        #expect(configuration.kafka.properties == ["session.timeout.ms": "6000"])
    }

    @Test func badValuesAreClearErrors() {
        var configuration = RadStreamConfiguration.standard
        #expect(throws: ConfigurationError.self) { try configuration.apply(environment: ["RADSTREAM_HTTP_PORT": "eighty"]) }
        #expect(throws: ConfigurationError.self) { try configuration.apply(environment: ["RADSTREAM_SUMMARY_DECODING": "best"]) }
        #expect(throws: ConfigurationError.self) { try configuration.apply(environment: ["RADSTREAM_SUMMARIZE_REPORTS": "yes"]) }
        #expect(throws: ConfigurationError.self) {
            try RadStreamConfiguration.standard.merging(json: Data(#"{"batch": {"maxEvents": "many"}}"#.utf8), source: "x")
        }
        #expect(throws: ConfigurationError.self) {
            try RadStreamConfiguration.load(file: URL(filePath: "/nonexistent/radstream.json"), environment: [:])
        }
    }

    /// A key the configuration does not have is refused with its path, not silently ignored;
    /// librdkafka's own properties are taken as they are, and the shipped file has no stray key.
    @Test func unknownKeysAreRefusedWithTheirPath() throws {
        let misspelt = #expect(throws: ConfigurationError.self) {
            try RadStreamConfiguration.standard.merging(json: Data(#"{"batch": {"maxEvent": 10}}"#.utf8), source: "site.json")
        }
        #expect(misspelt?.description.contains("site.json: unknown key batch.maxEvent") == true)
        #expect(misspelt?.description.contains("maxEvents") == true)
        #expect(throws: ConfigurationError.self) {
            try RadStreamConfiguration.standard.merging(json: Data(#"{"selfTraining": {"round": {"epoch": 3}}}"#.utf8), source: "x")
        }
        #expect(throws: ConfigurationError.self) { try RadStreamConfiguration.standard.merging(json: Data(#"{"dashbaord": {}}"#.utf8), source: "x") }
        let free = try RadStreamConfiguration.standard.merging(json: Data(#"{"kafka": {"properties": {"any.librdkafka.key": "1"}}}"#.utf8), source: "x")
        #expect(free.kafka.properties["any.librdkafka.key"] == "1")
        let shipped = TestData.packageRoot.appending(path: "config/radstream.json")
        #expect(throws: Never.self) { try RadStreamConfiguration.load(file: shipped, environment: [:]) }
    }

    /// librdkafka refuses a property: the error names it, and shows its value unless the name
    /// could hold a credential — a mistyped one too.
    @Test(arguments: [("sasl.pasword", "hunter2-secret"), ("ssl.key.pasword", "hunter2-secret"),
                      ("sasl.oauthbearer.client.secret", "hunter2-secret")])
    func aRefusedKafkaPropertyNeverEchoesASecret(key: String, value: String) {
        do {
            _ = try KafkaProducer(configuration: KafkaConfiguration(["bootstrap.servers": "127.0.0.1:1", key: value]))
            Issue.record("\(key) was accepted")
        } catch {
            #expect("\(error)".contains(key))
            #expect(!"\(error)".contains(value), "\(error)")
        }
    }

    @Test func aRefusedOrdinaryKafkaPropertyShowsItsValue() {
        #expect { _ = try KafkaProducer(configuration: KafkaConfiguration(["linger.ms": "soon"])) } throws: { "\($0)".contains("linger.ms=soon") }
    }

    /// The shipped file is complete and valid.
    @Test func theShippedConfigurationLoads() throws {
        let file = TestData.packageRoot.appending(path: "config/radstream.json")
        let configuration = try RadStreamConfiguration.load(file: file, environment: [:])
        #expect(configuration.kafka.properties["session.timeout.ms"] == "10000")
        #expect(configuration.images.thumbnailSides == [28, 64, 128])
    }
}
