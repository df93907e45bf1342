import Foundation
import Postgres

/// One rule names a variable for every key of the configuration: `RADSTREAM_`, then the key's
/// path, each name's words upper-cased and joined by `_` — `images.maxInlineBytes` is
/// `RADSTREAM_IMAGES_MAX_INLINE_BYTES`, `selfTraining.round.learningRate` is
/// `RADSTREAM_SELF_TRAINING_ROUND_LEARNING_RATE`. A list is written comma-separated, a flag true or
/// false. (`kafka.properties` is librdkafka's own: `RADSTREAM_KAFKA_<PROPERTY>`. The shorter names of
/// `environmentVariables` are older spellings of some of these and keep working.)
extension RadStreamConfiguration {
    static func variableName(_ path: [String]) -> String {
        "RADSTREAM_" + path.map { $0.replacing(/([a-z0-9])([A-Z])/) { "\($0.1)_\($0.2)" }.uppercased() }.joined(separator: "_")
    }

    /// Every key's path and variable, from the standard configuration's own document.
    static let keyVariables: [(path: [String], name: String)] = {
        func leaves(_ value: JSONValue, _ path: [String]) -> [[String]] {
            guard case .object(let members) = value, path != ["kafka", "properties"] else { return [path] }
            return members.keys.sorted().flatMap { leaves(members[$0]!, path + [$0]) }
        }
        return ((try? JSONValue(encoding: standard)).map { leaves($0, []) } ?? []).map { ($0, variableName($0)) }
    }()

    /// This configuration with the keys whose variables `environment` sets, each read as its
    /// key's kind of value (a number, a flag, text, a list); a value of the wrong kind is an
    /// error that names the variable.
    func applyingKeyVariables(_ environment: [String: String]) throws -> RadStreamConfiguration {
        let set = Self.keyVariables.filter { environment[$0.name] != nil }
        guard !set.isEmpty else { return self }
        let original = try JSONValue(encoding: self)
        var document = original
        for (path, name) in set {
            let text = environment[name]!
            guard let current = document[path], let value = Self.value(text, like: current) else {
                throw ConfigurationError("\(name)=\(text) is not \(Self.kind(of: document[path]))")
            }
            document[path] = value
        }
        if let configuration = try? document.decoded(as: Self.self) { return configuration }
        // Some value is of the right kind but not one the key takes (2.5 events, an unknown
        // decoding): find which, to name it.
        for (path, name) in set {
            var alone = original
            alone[path] = document[path]
            if (try? alone.decoded(as: Self.self)) == nil {
                throw ConfigurationError("\(name)=\(environment[name]!) is not a value \(path.joined(separator: ".")) takes")
            }
        }
        return try document.decoded(as: Self.self)
    }

    /// `text` read as the same kind of value as `like` (nil: it is not one).
    private static func value(_ text: String, like: JSONValue) -> JSONValue? {
        switch like {
        case .bool: return Bool(text.lowercased()).map(JSONValue.bool)
        case .number: return Double(text).map(JSONValue.number)
        case .string, .null: return .string(text)
        case .object: return nil
        case .array(let items):
            var values: [JSONValue] = []
            for part in text.split(separator: ",") {
                let trimmed = part.trimmingCharacters(in: .whitespaces)
                // An empty default list gives no kind: its items are taken as text.
                guard let value = items.first.map({ value(trimmed, like: $0) }) ?? .string(trimmed) else { return nil }
                values.append(value)
            }
            return .array(values)
        }
    }

    private static func kind(of value: JSONValue?) -> String {
        switch value {
        case .bool: "true or false"
        case .number: "a number"
        case .array: "a comma-separated list"
        default: "a value of this key"
        }
    }
}

private extension JSONValue {
    /// The member at `path` of nested objects.
    subscript(path: [String]) -> JSONValue? {
        get {
            guard let first = path.first else { return self }
            guard case .object(let members) = self else { return nil }
            return members[first]?[Array(path.dropFirst())]
        }
        set {
            guard let first = path.first else { if let newValue { self = newValue }; return }
            guard case .object(var members) = self else { return }
            var child = members[first] ?? .object([:])
            child[Array(path.dropFirst())] = newValue
            members[first] = child
            self = .object(members)
        }
    }
}
