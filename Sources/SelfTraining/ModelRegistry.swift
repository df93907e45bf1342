import Foundation
import Models
import Postgres
import TensorEngine
import Training

/// One version of a model as the registry keeps it (without its weights).
public struct RegisteredModel: Sendable, Equatable {
    public let model: String
    public let version: String
    public let parentVersion: String?
    public let origin: String
    public let status: String
    /// The validation figures as JSON.
    public let metrics: String
    public let createdAt: String
    public let weightBytes: Int
}

/// The model registry in PostgreSQL (`model_registry`, `model_activations`): every version of
/// an image model with its parent, figures and weights; which one is served; and the changes.
/// A change of the served version is announced on `channel` with `pg_notify`, delivered when
/// its transaction commits, so an instance never hears of a version it cannot read yet.
public struct ModelRegistry {
    public static let channel = "radstream_models"
    let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    public enum Origin: String, Sendable { case trained, selfTraining = "self-training" }
    public enum Cause: String, Sendable { case registered, selfTraining = "self-training", promote, rollback }

    /// The notification's payload: which model now serves which version.
    public struct Announcement: Codable, Sendable, Equatable {
        public let model: String
        public let version: String
    }

    public func versions(of model: String? = nil) throws -> [RegisteredModel] {
        let rows = try connection.execute("""
            SELECT model, version, parent_version, origin, status, metrics::text, created_at::text, length(weights)
            FROM model_registry WHERE $1::text IS NULL OR model = $1 ORDER BY model, created_at, version
            """, [.optional(model)])
        return rows.rows.map { row in
            RegisteredModel(model: row[0]!, version: row[1]!, parentVersion: row[2], origin: row[3]!, status: row[4]!,
                            metrics: row[5]!, createdAt: row[6]!, weightBytes: Int(row[7]!) ?? 0)
        }
    }

    /// The version served now, if the model is registered.
    public func activeVersion(of model: String) throws -> String? {
        try connection.execute("SELECT version FROM model_registry WHERE model = $1 AND status = 'active'", [.text(model)]).scalar
    }

    /// A registered version, ready to serve, once its weights match the digest recorded with them
    /// (PostgreSQL computes it over the stored bytes: weights altered in place, by hand or by a
    /// fault of the storage, are refused rather than served).
    public func classifier(_ model: String, version: String) throws -> ImageClassifier {
        let rows = try connection.execute("""
            SELECT weights, weights_sha256, encode(sha256(weights), 'hex') FROM model_registry WHERE model = $1 AND version = $2
            """, [.text(model), .text(version)])
        guard let row = rows.rows.first, let bytes = PostgresRows.bytes(row[0]) else {
            throw SelfTrainingError("the registry has no version \(version) of \(model)")
        }
        guard let recorded = row[1], recorded == row[2] else {
            throw SelfTrainingError("""
                the registry's \(model) \(version) does not match its recorded digest (recorded \(row[1] ?? "none"), \
                stored bytes \(row[2] ?? "none")): refused, not served
                """)
        }
        let classifier = try ImageClassifier(checkpoint: try Safetensors.read(bytes))
        guard classifier.settings.name == model, classifier.settings.version == version else {
            throw SelfTrainingError("the registry's \(model) \(version) holds \(classifier.settings.name) \(classifier.settings.version)")
        }
        return classifier
    }

    /// The version to serve for `classifier`'s model: the registry's active one; or, when the model
    /// is not registered yet, `classifier` itself, registered now as the first active version.
    public func adopt(_ classifier: ImageClassifier, metrics: ClassifierEvaluation?) throws -> ImageClassifier {
        let model = classifier.settings.name
        return try connection.transaction { connection in
            try Self.lock(model, on: connection)
            let registry = ModelRegistry(connection: connection)
            if let active = try registry.activeVersion(of: model) {
                return active == classifier.settings.version ? classifier : try registry.classifier(model, version: active)
            }
            try registry.insert(classifier, parent: nil, origin: .trained, status: "retired", metrics: metrics)
            try registry.activate(model, version: classifier.settings.version, cause: .registered)
            return classifier
        }
    }

    /// What became of a round's candidate.
    public enum Recorded: Sendable, Equatable {
        case promoted
        case kept
        /// The gate would have promoted it, but its parent was no longer served when the round
        /// ended (a person promoted or rolled back meanwhile): kept as a candidate instead.
        case servedVersionChanged(to: String?)
    }

    /// Records a round's candidate, trained from `parent`: served at once when `promote` and
    /// `parent` is still the served version — a compare-and-set, so that a person's promote or
    /// rollback during a long round is not silently undone by it; kept as a candidate otherwise.
    @discardableResult
    public func record(candidate: ImageClassifier, parent: String, metrics: ClassifierEvaluation, promote: Bool) throws -> Recorded {
        try connection.transaction { connection in
            let model = candidate.settings.name
            try Self.lock(model, on: connection)
            let registry = ModelRegistry(connection: connection)
            let served = try registry.activeVersion(of: model)
            let outcome: Recorded = !promote ? .kept : served == parent ? .promoted : .servedVersionChanged(to: served)
            try registry.insert(candidate, parent: parent, origin: .selfTraining, status: outcome == .promoted ? "retired" : "candidate",
                                metrics: metrics)
            if outcome == .promoted { try registry.activate(model, version: candidate.settings.version, cause: .selfTraining) }
            return outcome
        }
    }

    /// A person's choice: serve `version` (of whichever model has it) from now on.
    @discardableResult
    public func promote(_ version: String, model: String? = nil) throws -> Announcement {
        let rows = try connection.execute("SELECT model FROM model_registry WHERE version = $1 AND ($2::text IS NULL OR model = $2)",
                                          [.text(version), .optional(model)])
        guard rows.count == 1, let owner = rows.scalar else {
            throw SelfTrainingError(rows.count == 0 ? "no registered version \(version)\(model.map { " of \($0)" } ?? "")"
                                                    : "\(version) names versions of several models; say which with --model")
        }
        try connection.transaction { connection in
            try Self.lock(owner, on: connection)
            let registry = ModelRegistry(connection: connection)
            guard try registry.activeVersion(of: owner) != version else { throw SelfTrainingError("\(owner) \(version) is already served") }
            try registry.activate(owner, version: version, cause: .promote)
        }
        return Announcement(model: owner, version: version)
    }

    /// Returns `model` to the version served before the current one. Activations form an undo
    /// stack: each promotion pushes, each rollback pops, so a second rollback goes further back.
    @discardableResult
    public func rollback(_ model: String) throws -> (from: String, to: Announcement) {
        try connection.transaction { connection in
            try Self.lock(model, on: connection)
            let history = try connection.execute("SELECT version, cause FROM model_activations WHERE model = $1 ORDER BY id",
                                                 [.text(model)])
            var served: [String] = []
            for row in history.rows {
                if row[1] == Cause.rollback.rawValue { served.removeLast() } else { served.append(row[0]!) }
            }
            guard served.count >= 2 else {
                throw SelfTrainingError(served.isEmpty ? "\(model) is not registered" : "\(model) has no earlier version to return to")
            }
            let target = served[served.count - 2]
            try ModelRegistry(connection: connection).activate(model, version: target, cause: .rollback)
            return (served.last!, Announcement(model: model, version: target))
        }
    }

    // MARK: Inside a transaction

    /// Serialises every change of one model's versions (registry writes from several instances
    /// and people) for the rest of the transaction.
    static func lock(_ model: String, on connection: PostgresConnection) throws {
        try connection.execute("SELECT pg_advisory_xact_lock(hashtext('radstream.registry.' || $1))", [.text(model)])
    }

    /// Adds a version; one already registered (a round repeated on the same pools from the same
    /// model makes the same weights, hence the same version) is left as it is.
    private func insert(_ classifier: ImageClassifier, parent: String?, origin: Origin, status: String,
                        metrics: ClassifierEvaluation?) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let figures = try metrics.map { String(decoding: try encoder.encode($0), as: UTF8.self) } ?? "{}"
        try connection.execute("""
            INSERT INTO model_registry (model, version, parent_version, origin, status, metrics, weights, weights_sha256)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, encode(sha256($7), 'hex'))
            ON CONFLICT (model, version) DO NOTHING
            """, [.text(classifier.settings.name), .text(classifier.settings.version), .optional(parent), .text(origin.rawValue),
                  .text(status), .text(figures), .bytea(try classifier.checkpoint().serialized())])
    }

    private func activate(_ model: String, version: String, cause: Cause) throws {
        let previous = try connection.execute("""
            UPDATE model_registry SET status = 'retired' WHERE model = $1 AND status = 'active' RETURNING version
            """, [.text(model)]).scalar
        let updated = try connection.execute("UPDATE model_registry SET status = 'active' WHERE model = $1 AND version = $2",
                                             [.text(model), .text(version)])
        guard updated.affected == 1 else { throw SelfTrainingError("no registered version \(version) of \(model)") }
        try connection.execute("""
            INSERT INTO model_activations (model, version, previous_version, cause) VALUES ($1, $2, $3, $4)
            """, [.text(model), .text(version), .optional(previous), .text(cause.rawValue)])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let payload = String(decoding: try encoder.encode(Announcement(model: model, version: version)), as: UTF8.self)
        try connection.execute("SELECT pg_notify($1, $2)", [.text(Self.channel), .text(payload)])
    }
}
