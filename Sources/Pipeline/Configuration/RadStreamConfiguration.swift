import Diffusion
import Foundation
import Gateway
import SelfTraining

/// Everything the daemon needs to know, read from `config/radstream.json` and overridden by
/// `RADSTREAM_*` environment variables (the twelve-factor way a deployment sets them).
public struct RadStreamConfiguration: Codable, Sendable, Equatable {
    public struct Kafka: Codable, Sendable, Equatable {
        public var bootstrapServers: String
        public var groupID: String
        public var imageTopic: String
        public var reportTopic: String
        /// Dead letters go to `<topic><deadLetterSuffix>`.
        public var deadLetterSuffix: String
        /// Passed to librdkafka as they are (`session.timeout.ms`, `security.protocol`, …).
        public var properties: [String: String]
        /// When PostgreSQL's next offset for a partition lies past the partition's end (the topic
        /// was recreated): false holds the partition, not ready, until a person decides; true
        /// consumes it again from its beginning.
        public var resetOffsetsBeyondEnd: Bool
        /// How often the consumer's lag per partition is written to PostgreSQL (`consumer_lag`,
        /// the history dashboards chart; the live figure is on `/metrics`); 0: never.
        public var lagRecordSeconds: Int
    }

    public struct Postgres: Codable, Sendable, Equatable {
        /// A libpq connection string, e.g. `host=127.0.0.1 port=5432 dbname=radstream user=radstream`.
        public var conninfo: String
        /// The longest wait between two attempts when PostgreSQL cannot do the work (it backs off
        /// from one second, doubling).
        public var retryMaxSeconds: Int
        /// The longest any statement of the daemon may run (a lock held elsewhere, a server
        /// that no longer answers): past it the statement is cancelled and retried.
        public var statementTimeoutSeconds: Int
    }

    public struct Batch: Codable, Sendable, Equatable {
        public var maxEvents: Int
        /// How long a partial batch may wait for more events before it is processed.
        public var maxWaitMilliseconds: Int
        /// A batch is due once it holds this many bytes of records, whatever their count.
        public var maxBytes: Int
        /// With records waiting, no batch committed for this long makes the daemon not ready.
        public var stallSeconds: Int
        /// After SIGTERM, the longest the daemon waits for its batch to commit before it exits
        /// anyway (what it had not committed is consumed again on restart). A second SIGTERM or
        /// SIGINT exits at once.
        public var shutdownSeconds: Int
        /// Processing one batch for longer than this is a hang (a decoder's bug): the daemon
        /// exits, to be restarted, and the attempt counts against the batch's records.
        public var processingTimeoutSeconds: Int
        /// A record on which this many attempts crashed or hung is quarantined as a dead letter.
        public var maxAttempts: Int

        public init(maxEvents: Int, maxWaitMilliseconds: Int, maxBytes: Int = 64 << 20, stallSeconds: Int = 60,
                    shutdownSeconds: Int = 30, processingTimeoutSeconds: Int = 300, maxAttempts: Int = 3) {
            self.maxEvents = maxEvents
            self.maxWaitMilliseconds = maxWaitMilliseconds
            self.maxBytes = maxBytes
            self.stallSeconds = stallSeconds
            self.shutdownSeconds = shutdownSeconds
            self.processingTimeoutSeconds = processingTimeoutSeconds
            self.maxAttempts = maxAttempts
        }
    }

    public struct Images: Codable, Sendable, Equatable {
        /// `file://` URIs are read only under these directories.
        public var allowedRoots: [String]
        public var maxInlineBytes: Int
        public var maxFileBytes: Int
        public var maxPixels: Int
        /// Sides of the square greyscale copies kept in PostgreSQL for the models.
        public var thumbnailSides: [Int]
    }

    public struct HTTP: Codable, Sendable, Equatable {
        public var host: String
        /// 0 lets the system choose (tests); the chosen port is logged.
        public var port: Int
    }

    public struct ModelOptions: Codable, Sendable, Equatable {
        /// The folder of model folders; empty: the models shipped with RadStream.
        public var directory: String
        /// Run the image classifiers (with their Grad-CAM maps) on every image.
        public var classifyImages: Bool
        /// Which classifiers, by name ("pneumonia", "covid"); empty: every one in the folder.
        public var classifiers: [String]
        /// Label every report with the 14 CheXpert observations.
        public var labelReports: Bool
        /// Write every report's IMPRESSION from its FINDINGS with the summarizer.
        public var summarizeReports: Bool
        /// How the model writes its own impression: "greedy" (the fastest; with a memory of
        /// reports, which the reranker chooses from, as good as beam by cross-validation), "beam"
        /// (width 4: 0.005 ROUGE-L better for the model alone, a third as fast) or "mbr" (minimum
        /// Bayes risk over 16 sampled outputs).
        public var summaryDecoding: SummaryDecoding
        /// The earlier reports the summarizer's reranker draws on.
        public var summaryMemory: SummaryMemory
        /// Write every image's IMPRESSION with the captioner.
        public var captionImages: Bool
    }

    public enum SummaryDecoding: String, Codable, Sendable {
        case beam, greedy, mbr
    }

    /// Where the summarizer finds earlier reports — their FINDINGS and the radiologists'
    /// IMPRESSIONs — among whose conclusions and its own its reranker chooses.
    public struct SummaryMemory: Codable, Sendable, Equatable {
        public enum Source: String, Codable, Sendable {
            /// The reports the stream has written to PostgreSQL (the most recent `reports`),
            /// read again every `refreshSeconds`.
            case database
            /// A folder of IU XML reports (`folder`), read once at the start.
            case folder
            /// The model alone.
            case none
        }
        public var source: Source
        public var folder: String
        public var reports: Int
        public var refreshSeconds: Int

        func validate() throws {
            guard reports > 0, refreshSeconds > 0 else { throw ConfigurationError("models.summaryMemory.reports and refreshSeconds must be positive") }
            guard source != .folder || !folder.isEmpty else { throw ConfigurationError("models.summaryMemory.source folder needs models.summaryMemory.folder") }
        }
    }

    /// The background worker that explains every positive call by a counterfactual film.
    public struct Counterfactuals: Codable, Sendable, Equatable {
        public var enabled: Bool
        /// The joint diffusion model: a folder under `models.directory`, or a path.
        public var model: String
        /// The classifier whose positive calls it explains; empty: the joint model's own name.
        public var explains: String
        /// The share of one core the worker may take (it runs on one core, at a lower priority,
        /// and rests between batches to keep to it); the stream keeps the rest.
        public var cpuShare: Double
        /// Images per batch (one transaction holds them while they are made).
        public var batchSize: Int
        /// How long the worker waits before looking again when nothing is pending.
        public var checkSeconds: Int
        public var startStep: Int
        public var steps: Int
        public var guidance: Float
        /// Bring each film to the start step by DDIM inversion rather than by seeded noise.
        public var inversion: Bool

        func validate() throws {
            guard cpuShare > 0, cpuShare <= 1 else { throw ConfigurationError("counterfactuals.cpuShare must be in (0, 1]") }
            guard batchSize > 0, checkSeconds > 0, steps > 0, startStep > 0, guidance >= 0 else {
                throw ConfigurationError("counterfactuals.batchSize, checkSeconds, steps and startStep must be positive, guidance not negative")
            }
        }
    }

    /// The web dashboard, served beside the daemon when enabled (`radstream dashboard` serves
    /// the same pages on their own).
    public struct Dashboard: Codable, Sendable, Equatable {
        public var enabled: Bool
        public var host: String
        public var port: Int
        /// Who may log in: lines `user:password`. Required when enabled.
        public var credentialsFile: String
        /// The reader role's connection string; empty: `postgres.conninfo`.
        public var conninfo: String

        func validate() throws {
            guard enabled else { return }
            guard !credentialsFile.isEmpty else { throw ConfigurationError("dashboard.credentialsFile is required when the dashboard is enabled") }
            guard (0...65535).contains(port) else { throw ConfigurationError("dashboard.port must be in 0...65535") }
        }
    }

    /// The results that go back to the hospital: every classified image's findings as a FHIR
    /// DiagnosticReport and (for an image that came by C-STORE) a DICOM SR, written to an outbox
    /// in the batch's transaction and published to `topic`.
    public struct Results: Codable, Sendable, Equatable {
        public var enabled: Bool
        public var topic: String
        /// How long the publisher waits before looking again when nothing is pending.
        public var checkMilliseconds: Int
        /// Rows published per transaction.
        public var batchSize: Int
        /// Where SRs are also sent by C-STORE (the PACS); an empty AE title sends none.
        public var dicomDestination: StorageSCU.Destination

        func validate() throws {
            guard !enabled || !topic.isEmpty else { throw ConfigurationError("results.topic is empty") }
            if dicomDestination.isConfigured {
                guard dicomDestination.aeTitle.count <= 16, (1...16).contains(dicomDestination.callingAETitle.count) else {
                    throw ConfigurationError("results.dicomDestination.aeTitle and callingAETitle must have 1 to 16 characters")
                }
                guard !dicomDestination.host.isEmpty, (1...65535).contains(dicomDestination.port) else {
                    throw ConfigurationError("results.dicomDestination needs a host and a port in 1...65535")
                }
            }
            guard checkMilliseconds > 0, batchSize > 0 else { throw ConfigurationError("results.checkMilliseconds and batchSize must be positive") }
        }
    }

    public var kafka: Kafka
    public var postgres: Postgres
    public var batch: Batch
    public var images: Images
    public var http: HTTP
    public var models: ModelOptions
    public var selfTraining: SelfTrainingSettings
    public var counterfactuals: Counterfactuals
    public var dashboard: Dashboard
    public var results: Results
    /// `radstream gateway`: DICOM and HL7 in (the daemon itself does not read this section).
    public var gateway: GatewaySettings

    public var topics: [String] { [kafka.imageTopic, kafka.reportTopic] }

    public func deadLetterTopic(for topic: String) -> String { topic + kafka.deadLetterSuffix }

    public static let standard = RadStreamConfiguration(
        kafka: Kafka(bootstrapServers: "127.0.0.1:9092", groupID: "radstream", imageTopic: "radstream.images",
                     reportTopic: "radstream.reports", deadLetterSuffix: ".dlq", properties: [:],
                     resetOffsetsBeyondEnd: false, lagRecordSeconds: 30),
        postgres: Postgres(conninfo: "host=127.0.0.1 port=5432 dbname=radstream user=radstream", retryMaxSeconds: 30,
                           statementTimeoutSeconds: 30),
        batch: Batch(maxEvents: 500, maxWaitMilliseconds: 200),
        images: Images(allowedRoots: [], maxInlineBytes: 6 << 20, maxFileBytes: 64 << 20, maxPixels: 50_000_000,
                       thumbnailSides: [28, 64, 128]),
        http: HTTP(host: "127.0.0.1", port: 8080),
        models: ModelOptions(directory: "", classifyImages: true, classifiers: [], labelReports: true,
                             summarizeReports: true, summaryDecoding: .greedy,
                             summaryMemory: SummaryMemory(source: .database, folder: "", reports: 50_000, refreshSeconds: 300),
                             captionImages: true),
        selfTraining: .standard,
        counterfactuals: Counterfactuals(enabled: true, model: JointDiffusionModel.folderName, explains: "", cpuShare: 0.25, batchSize: 8, checkSeconds: 5,
                                         startStep: CounterfactualOptions().startStep, steps: CounterfactualOptions().steps,
                                         guidance: CounterfactualOptions().guidance, inversion: CounterfactualOptions().inversion),
        dashboard: Dashboard(enabled: false, host: "127.0.0.1", port: 8090, credentialsFile: "", conninfo: ""),
        results: Results(enabled: true, topic: "radstream.results", checkMilliseconds: 500, batchSize: 500,
                         dicomDestination: .init(aeTitle: "", host: "", port: 104, callingAETitle: "RADSTREAM", timeoutSeconds: 30)),
        gateway: .standard)

    /// Reads a JSON file (any key may be left out: the standard value stands), then the environment.
    public static func load(file: URL?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RadStreamConfiguration {
        var configuration = standard
        if let file {
            let data: Data
            do { data = try Data(contentsOf: file) } catch {
                throw ConfigurationError("cannot read \(file.path): \(error.localizedDescription)")
            }
            configuration = try configuration.merging(json: data, source: file.path)
        }
        let environment = try resolvingSecretFiles(environment)
        configuration = try configuration.applyingKeyVariables(environment)
        try configuration.apply(environment: environment)
        return configuration
    }

    /// Overlays a partial JSON document on this configuration.
    func merging(json data: Data, source: String) throws -> RadStreamConfiguration {
        do {
            guard let overlay = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ConfigurationError("\(source): the configuration must be a JSON object")
            }
            let base = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as! [String: Any]
            let merged = try Self.merge(base, overlay, path: "", source: source)
            return try JSONDecoder().decode(Self.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError("\(source): \(error)")
        }
    }

    /// `overlay` over `base`, key by key. A key the configuration does not have is refused with
    /// its path (a misspelt `batch.maxEvent` would otherwise leave the default silently in force);
    /// `kafka.properties` is librdkafka's own and taken as it is.
    private static func merge(_ base: [String: Any], _ overlay: [String: Any], path: String, source: String) throws -> [String: Any] {
        var result = base
        for key in overlay.keys.sorted() {
            let value = overlay[key]!, here = path.isEmpty ? key : path + "." + key
            guard let existing = base[key] else {
                throw ConfigurationError("\(source): unknown key \(here) (known here: \(base.keys.sorted().joined(separator: ", ")))")
            }
            if let nested = value as? [String: Any], let existingObject = existing as? [String: Any], here != "kafka.properties" {
                result[key] = try merge(existingObject, nested, path: here, source: source)
            } else {
                result[key] = value
            }
        }
        return result
    }

    /// The environment variables a deployment may set, and what each overrides.
    public static let environmentVariables: [(name: String, meaning: String)] = [
        ("RADSTREAM_KAFKA_BOOTSTRAP", "kafka.bootstrapServers"),
        ("RADSTREAM_KAFKA_GROUP", "kafka.groupID"),
        ("RADSTREAM_RESET_OFFSETS_BEYOND_END", "kafka.resetOffsetsBeyondEnd: true or false"),
        ("RADSTREAM_POSTGRES", "postgres.conninfo"),
        ("RADSTREAM_POSTGRES_RETRY_MAX_SECONDS", "postgres.retryMaxSeconds"),
        ("RADSTREAM_IMAGE_ROOTS", "images.allowedRoots, separated by ':'"),
        ("RADSTREAM_BATCH_MAX_EVENTS", "batch.maxEvents"),
        ("RADSTREAM_BATCH_MAX_WAIT_MS", "batch.maxWaitMilliseconds"),
        ("RADSTREAM_BATCH_MAX_BYTES", "batch.maxBytes"),
        ("RADSTREAM_STALL_SECONDS", "batch.stallSeconds"),
        ("RADSTREAM_PROCESSING_TIMEOUT_SECONDS", "batch.processingTimeoutSeconds"),
        ("RADSTREAM_MAX_ATTEMPTS", "batch.maxAttempts"),
        ("RADSTREAM_SHUTDOWN_SECONDS", "batch.shutdownSeconds"),
        ("RADSTREAM_POSTGRES_STATEMENT_TIMEOUT_SECONDS", "postgres.statementTimeoutSeconds"),
        ("RADSTREAM_HTTP_PORT", "http.port"),
        ("RADSTREAM_MODELS", "models.directory (also where the command-line tools look)"),
        ("RADSTREAM_CLASSIFY_IMAGES", "models.classifyImages: true or false"),
        ("RADSTREAM_CLASSIFIERS", "models.classifiers, names separated by ',' (empty: all)"),
        ("RADSTREAM_LABEL_REPORTS", "models.labelReports: true or false"),
        ("RADSTREAM_SUMMARIZE_REPORTS", "models.summarizeReports: true or false"),
        ("RADSTREAM_SUMMARY_DECODING", "models.summaryDecoding: beam, greedy or mbr"),
        ("RADSTREAM_SUMMARY_MEMORY", "models.summaryMemory: database, none, or a folder of IU XML reports"),
        ("RADSTREAM_CAPTION_IMAGES", "models.captionImages: true or false"),
        ("RADSTREAM_SELF_TRAINING", "selfTraining.enabled: true or false"),
        ("RADSTREAM_SELF_TRAINING_DATA", "selfTraining.labeledData: a folder with train/ and val/"),
        ("RADSTREAM_COUNTERFACTUALS", "counterfactuals.enabled: true or false"),
        ("RADSTREAM_COUNTERFACTUALS_CPU_SHARE", "counterfactuals.cpuShare: the share of one core, in (0, 1]"),
        ("RADSTREAM_DASHBOARD", "dashboard.enabled: true or false"),
        ("RADSTREAM_DASHBOARD_PORT", "dashboard.port"),
        ("RADSTREAM_DASHBOARD_CREDENTIALS", "dashboard.credentialsFile: lines user:password"),
        ("RADSTREAM_DASHBOARD_POSTGRES", "dashboard.conninfo: the reader role's connection string"),
        ("RADSTREAM_<PATH>", "every key by one rule: images.maxInlineBytes is RADSTREAM_IMAGES_MAX_INLINE_BYTES"),
        ("RADSTREAM_KAFKA_<PROPERTY>", "a librdkafka property, e.g. RADSTREAM_KAFKA_SESSION_TIMEOUT_MS=6000"),
        ("RADSTREAM_<NAME>_FILE", "any of these from a file (a secret): e.g. RADSTREAM_POSTGRES_FILE=/run/secrets/conninfo"),
    ]

    mutating func apply(environment: [String: String]) throws {
        func integer(_ name: String) throws -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text), value >= 0 else { throw ConfigurationError("\(name)=\(text) is not a whole number") }
            return value
        }
        func flag(_ name: String) throws -> Bool? {
            guard let text = environment[name] else { return nil }
            guard let value = Bool(text.lowercased()) else { throw ConfigurationError("\(name)=\(text) is not true or false") }
            return value
        }
        if let value = environment["RADSTREAM_KAFKA_BOOTSTRAP"] { kafka.bootstrapServers = value }
        if let value = environment["RADSTREAM_KAFKA_GROUP"] { kafka.groupID = value }
        if let value = try flag("RADSTREAM_RESET_OFFSETS_BEYOND_END") { kafka.resetOffsetsBeyondEnd = value }
        if let value = environment["RADSTREAM_POSTGRES"] { postgres.conninfo = value }
        if let value = try integer("RADSTREAM_POSTGRES_RETRY_MAX_SECONDS") { postgres.retryMaxSeconds = max(1, value) }
        if let value = environment["RADSTREAM_IMAGE_ROOTS"] { images.allowedRoots = value.split(separator: ":").map(String.init) }
        if let value = try integer("RADSTREAM_BATCH_MAX_EVENTS") { batch.maxEvents = max(1, value) }
        if let value = try integer("RADSTREAM_BATCH_MAX_WAIT_MS") { batch.maxWaitMilliseconds = value }
        if let value = try integer("RADSTREAM_STALL_SECONDS") { batch.stallSeconds = max(1, value) }
        if let value = try integer("RADSTREAM_BATCH_MAX_BYTES") { batch.maxBytes = max(1, value) }
        if let value = try integer("RADSTREAM_PROCESSING_TIMEOUT_SECONDS") { batch.processingTimeoutSeconds = max(1, value) }
        if let value = try integer("RADSTREAM_MAX_ATTEMPTS") { batch.maxAttempts = max(1, value) }
        if let value = try integer("RADSTREAM_SHUTDOWN_SECONDS") { batch.shutdownSeconds = max(1, value) }
        if let value = try integer("RADSTREAM_POSTGRES_STATEMENT_TIMEOUT_SECONDS") { postgres.statementTimeoutSeconds = max(1, value) }
        if let value = try integer("RADSTREAM_HTTP_PORT") { http.port = value }
        if let value = environment["RADSTREAM_MODELS"] { models.directory = value }
        if let value = try flag("RADSTREAM_CLASSIFY_IMAGES") { models.classifyImages = value }
        if let value = try flag("RADSTREAM_LABEL_REPORTS") { models.labelReports = value }
        if let value = try flag("RADSTREAM_SUMMARIZE_REPORTS") { models.summarizeReports = value }
        if let value = try flag("RADSTREAM_CAPTION_IMAGES") { models.captionImages = value }
        if let text = environment["RADSTREAM_SUMMARY_DECODING"] {
            guard let value = SummaryDecoding(rawValue: text.lowercased()) else {
                throw ConfigurationError("RADSTREAM_SUMMARY_DECODING=\(text) is not beam, greedy or mbr")
            }
            models.summaryDecoding = value
        }
        if let text = environment["RADSTREAM_SUMMARY_MEMORY"] {
            switch text.lowercased() {
            case "database": models.summaryMemory.source = .database
            case "none": models.summaryMemory.source = .none
            default: (models.summaryMemory.source, models.summaryMemory.folder) = (.folder, text)
            }
        }
        if let value = try flag("RADSTREAM_SELF_TRAINING") { selfTraining.enabled = value }
        if let value = environment["RADSTREAM_SELF_TRAINING_DATA"] { selfTraining.labeledData = value }
        if let value = try flag("RADSTREAM_COUNTERFACTUALS") { counterfactuals.enabled = value }
        if let text = environment["RADSTREAM_COUNTERFACTUALS_CPU_SHARE"] {
            guard let value = Double(text), value > 0, value <= 1 else {
                throw ConfigurationError("RADSTREAM_COUNTERFACTUALS_CPU_SHARE=\(text) is not a share in (0, 1]")
            }
            counterfactuals.cpuShare = value
        }
        if let value = try flag("RADSTREAM_DASHBOARD") { dashboard.enabled = value }
        if let value = try integer("RADSTREAM_DASHBOARD_PORT") { dashboard.port = value }
        if let value = environment["RADSTREAM_DASHBOARD_CREDENTIALS"] { dashboard.credentialsFile = value }
        if let value = environment["RADSTREAM_DASHBOARD_POSTGRES"] { dashboard.conninfo = value }
        if let value = environment["RADSTREAM_CLASSIFIERS"] { models.classifiers = value.split(separator: ",").map(String.init) }
        // The kafka section's own keys (RADSTREAM_KAFKA_GROUP_ID, …) are not librdkafka properties.
        let reserved = Set(["RADSTREAM_KAFKA_BOOTSTRAP", "RADSTREAM_KAFKA_GROUP"] + Self.keyVariables.map(\.name))
        for (name, value) in environment where name.hasPrefix("RADSTREAM_KAFKA_") && !reserved.contains(name) {
            let property = name.dropFirst("RADSTREAM_KAFKA_".count).lowercased().replacingOccurrences(of: "_", with: ".")
            kafka.properties[property] = value
        }
    }
}

public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
