import Foundation
import Models
import Postgres
import SelfTraining
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
    /// Whether it has an applicability gate (without one its films are not judged).
    public let gated: Bool
}

/// As `models list --json` writes it: the figures as the JSON object they are, not a string.
extension RegisteredModel: Encodable {
    private enum Keys: String, CodingKey { case model, version, parentVersion, origin, status, metrics, createdAt, weightBytes, gated }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(model, forKey: .model)
        try container.encode(version, forKey: .version)
        try container.encodeIfPresent(parentVersion, forKey: .parentVersion)
        try container.encode(origin, forKey: .origin)
        try container.encode(status, forKey: .status)
        try container.encode(JSONValue(parsing: metrics), forKey: .metrics)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(weightBytes, forKey: .weightBytes)
        try container.encode(gated, forKey: .gated)
    }
}

/// The model registry in PostgreSQL (`model_registry`, `model_activations`): every version of
/// an image model with its parent, figures and weights; which one is served; and the changes.
/// A change of the served version is announced on `channel` with `pg_notify`, delivered when
/// its transaction commits, so an instance never hears of a version it cannot read yet.
public struct ModelRegistry: ModelVersions {
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
            SELECT model, version, parent_version, origin, status, metrics::text, created_at::text, length(weights),
                   applicability IS NOT NULL
            FROM model_registry WHERE $1::text IS NULL OR model = $1 ORDER BY model, created_at, version
            """, [.optional(model)])
        return rows.rows.map { row in
            RegisteredModel(model: row[0]!, version: row[1]!, parentVersion: row[2], origin: row[3]!, status: row[4]!,
                            metrics: row[5]!, createdAt: row[6]!, weightBytes: Int(row[7]!) ?? 0, gated: row[8] == "t")
        }
    }

    /// The version served now, if the model is registered.
    public func activeVersion(of model: String) throws -> String? {
        try connection.execute("SELECT version FROM model_registry WHERE model = $1 AND status = 'active'", [.text(model)]).scalar
    }

    /// A registered version, ready to serve with its gate, once its weights and its gate match
    /// the digests recorded with them (PostgreSQL computes them over the stored bytes: weights
    /// altered in place, by hand or by a fault of the storage, are refused rather than served).
    public func classifier(_ model: String, version: String) throws -> GatedClassifier {
        let rows = try connection.execute("""
            SELECT weights, weights_sha256, encode(sha256(weights), 'hex'), applicability, applicability_population,
                   applicability_sha256, encode(sha256(applicability || coalesce(applicability_population, ''::bytea)), 'hex')
            FROM model_registry WHERE model = $1 AND version = $2
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
        guard let gateBytes = PostgresRows.bytes(row[3]) else { return GatedClassifier(classifier, gate: nil) }
        guard row[5] == row[6] else {
            throw SelfTrainingError("the registry's gate of \(model) \(version) does not match its recorded digest: refused, not served")
        }
        let gate = try ApplicabilityGate(checkpoint: try Safetensors.read(gateBytes),
                                         populationCheck: try PostgresRows.bytes(row[4]).map(Safetensors.read),
                                         source: "the registry's gate of \(model) \(version)")
        guard gate.model == model, gate.modelVersion == version else {
            throw SelfTrainingError("the registry's gate of \(model) \(version) was fitted for \(gate.model) \(gate.modelVersion)")
        }
        return GatedClassifier(classifier, gate: gate)
    }

    /// The version to serve for `served`'s model: the registry's active one; or, when the model
    /// is not registered yet, `served` itself, registered now as the first active version. A
    /// version registered before the registry kept gates gets `served`'s gate when it is that
    /// version's.
    public func adopt(_ served: GatedClassifier, metrics: ClassifierEvaluation?) throws -> GatedClassifier {
        let model = served.name
        return try connection.transaction { connection in
            try Self.lock(model, on: connection)
            let registry = ModelRegistry(connection: connection)
            if let active = try registry.activeVersion(of: model) {
                guard active == served.version else { return try registry.classifier(model, version: active) }
                if let gate = served.gate { try registry.storeGateIfMissing(gate) }
                return served
            }
            try registry.insert(served, parent: nil, origin: .trained, status: "retired", metrics: metrics)
            try registry.activate(model, version: served.version, cause: .registered)
            return served
        }
    }

    /// Records a round's candidate, trained from `parent`: served at once when `promote` and
    /// `parent` is still the served version — a compare-and-set, so that a person's promote or
    /// rollback during a long round is not silently undone by it; kept as a candidate otherwise.
    @discardableResult
    public func record(candidate: GatedClassifier, parent: String, metrics: ClassifierEvaluation, promote: Bool) throws -> CandidateOutcome {
        try connection.transaction { connection in
            let model = candidate.name
            try Self.lock(model, on: connection)
            let registry = ModelRegistry(connection: connection)
            let served = try registry.activeVersion(of: model)
            let outcome: CandidateOutcome = !promote ? .kept : served == parent ? .promoted : .servedVersionChanged(to: served)
            try registry.insert(candidate, parent: parent, origin: .selfTraining, status: outcome == .promoted ? "retired" : "candidate",
                                metrics: metrics)
            if outcome == .promoted { try registry.activate(model, version: candidate.version, cause: .selfTraining) }
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

    /// Adds a version with its gate; one already registered (a round repeated on the same pools
    /// from the same model makes the same weights, hence the same version) is left as it is.
    private func insert(_ served: GatedClassifier, parent: String?, origin: Origin, status: String,
                        metrics: ClassifierEvaluation?) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let figures = try metrics.map { String(decoding: try encoder.encode($0), as: UTF8.self) } ?? "{}"
        let gate = try served.gate?.checkpoints()
        try connection.execute("""
            INSERT INTO model_registry (model, version, parent_version, origin, status, metrics, weights, weights_sha256,
                                        applicability, applicability_population, applicability_sha256)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, encode(sha256($7), 'hex'),
                    $8, $9, encode(sha256($8 || coalesce($9, ''::bytea)), 'hex'))
            ON CONFLICT (model, version) DO NOTHING
            """, [.text(served.name), .text(served.version), .optional(parent), .text(origin.rawValue),
                  .text(status), .text(figures), .bytea(try served.classifier.checkpoint().serialized()),
                  try gate.map { .bytea(try $0.gate.serialized()) } ?? .null,
                  try gate?.populationCheck.map { .bytea(try $0.serialized()) } ?? .null])
    }

    /// Gives a version registered without a gate (before the registry kept them) its gate.
    private func storeGateIfMissing(_ gate: ApplicabilityGate) throws {
        let (checkpoint, population) = try gate.checkpoints()
        try connection.execute("""
            UPDATE model_registry SET applicability = $3, applicability_population = $4,
                applicability_sha256 = encode(sha256($3 || coalesce($4, ''::bytea)), 'hex')
            WHERE model = $1 AND version = $2 AND applicability IS NULL
            """, [.text(gate.model), .text(gate.modelVersion), .bytea(try checkpoint.serialized()),
                  try population.map { .bytea(try $0.serialized()) } ?? .null])
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
