import Foundation
import Postgres

/// The home of `counterfactual_explanations`: which positive calls still want an explanation,
/// taking them so that no other worker takes them too, and writing what was made.
public struct CounterfactualStore {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Which calls are explained: `model`'s predictions deciding `positive`, not marked inapplicable.
    public struct Scope: Sendable, Equatable {
        public var model: String
        public var positive: String
        /// The side of the kept copy the explainer reads.
        public var side: Int

        public init(model: String, positive: String, side: Int) {
            (self.model, self.positive, self.side) = (model, positive, side)
        }
    }

    /// A positive call without an explanation, taken by this transaction.
    public struct Pending: Sendable, Equatable {
        public let imageID: Int
        public let modelVersion: String
        public let pixels: [UInt8]
    }

    /// What the worker made of one taken image.
    public enum Outcome: Sendable {
        case done(Made)
        case failed(String)
    }

    public struct Made: Sendable {
        public var fromClass: String
        public var toClass: String
        public var probabilityBefore: Float
        public var probabilityAfter: Float
        public var flipped: Bool
        public var l1: Double
        public var changedFraction: Double
        public var counterfactualPNG: [UInt8]
        public var differencePNG: [UInt8]

        public init(fromClass: String, toClass: String, probabilityBefore: Float, probabilityAfter: Float, flipped: Bool, l1: Double,
                    changedFraction: Double, counterfactualPNG: [UInt8], differencePNG: [UInt8]) {
            (self.fromClass, self.toClass, self.probabilityBefore, self.probabilityAfter) = (fromClass, toClass, probabilityBefore, probabilityAfter)
            (self.flipped, self.l1, self.changedFraction) = (flipped, l1, changedFraction)
            (self.counterfactualPNG, self.differencePNG) = (counterfactualPNG, differencePNG)
        }
    }

    /// A prediction `p` that is pending: `$1`'s call of `$2`, not marked inapplicable, without an explanation.
    static let pending = """
        p.model = $1 AND p.decision = $2 AND p.applicable IS NOT FALSE
          AND NOT EXISTS (SELECT 1 FROM counterfactual_explanations c WHERE c.image_id = p.image_id AND c.model = p.model)
        """

    /// Takes up to `limit` pending calls, oldest first, locking their prediction rows until the
    /// transaction ends: another worker's `take` skips them; should this one die, the locks go
    /// with its connection and the calls are pending again. Call inside `connection.transaction`.
    public func take(_ scope: Scope, limit: Int) throws -> [Pending] {
        try connection.execute("""
            SELECT p.image_id, p.model_version, x.pixels
            FROM image_predictions p
            JOIN image_pixels x ON x.image_id = p.image_id AND x.side = $3
            WHERE \(Self.pending)
            ORDER BY p.image_id
            LIMIT $4
            FOR UPDATE OF p SKIP LOCKED
            """, [.text(scope.model), .text(scope.positive), .int(scope.side), .int(limit)]).rows.map { row in
            Pending(imageID: Int(row[0]!)!, modelVersion: row[1]!, pixels: PostgresRows.bytes(row[2]) ?? [])
        }
    }

    /// Writes the explanation of a taken call (in the transaction that took it).
    public func record(_ pending: Pending, scope: Scope, explainerVersion: String, outcome: Outcome) throws {
        var values: [PostgresValue] = [.int(pending.imageID), .text(scope.model), .text(pending.modelVersion), .text(explainerVersion)]
        switch outcome {
        case .done(let made):
            values += [.text("done"), .text(made.fromClass), .text(made.toClass), .text("\(made.probabilityBefore)"),
                       .text("\(made.probabilityAfter)"), .text(made.flipped ? "true" : "false"), .text("\(made.l1)"),
                       .text("\(made.changedFraction)"), .bytea(made.counterfactualPNG), .bytea(made.differencePNG), .null]
        case .failed(let reason):
            values += [.text("failed"), .null, .null, .null, .null, .null, .null, .null, .null, .null, .text(reason)]
        }
        try connection.execute("""
            INSERT INTO counterfactual_explanations (image_id, model, model_version, explainer_version, status, from_class, to_class,
                probability_before, probability_after, flipped, l1, changed_fraction, counterfactual_png, difference_png, error)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::real, $9::real, $10::boolean, $11::real, $12::real, $13, $14, $15)
            """, values)
    }

    /// Positive calls still without an explanation.
    public func pendingCount(_ scope: Scope) throws -> Int {
        try connection.execute("""
            SELECT count(*) FROM image_predictions p WHERE \(Self.pending)
            """, [.text(scope.model), .text(scope.positive)]).scalarInt ?? 0
    }

    /// One stored explanation, as a reader sees it.
    public struct Row: Sendable, Equatable {
        public let imageID: Int
        public let status: String
        public let explainerVersion: String
        public let flipped: Bool?
        public let l1: Double?
        public let error: String?
    }

    public func explanations(of model: String) throws -> [Row] {
        try connection.execute("""
            SELECT image_id, status, explainer_version, flipped, l1, error FROM counterfactual_explanations WHERE model = $1 ORDER BY image_id
            """, [.text(model)]).rows.map { row in
            Row(imageID: Int(row[0]!)!, status: row[1]!, explainerVersion: row[2]!, flipped: row[3].map { $0 == "t" },
                l1: row[4].flatMap(Double.init), error: row[5])
        }
    }
}
