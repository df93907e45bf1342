import Foundation
import Kafka

extension RadStreamConfiguration {
    /// `RADSTREAM_X_FILE=/run/secrets/x` stands for `RADSTREAM_X` with that file's content, its
    /// trailing newline dropped: how container and Kubernetes secrets and systemd credentials are
    /// handed over, so that a password is neither in the environment nor on a command line.
    /// Both set, or a file that cannot be read, is an error naming the variable (never the value).
    static func resolvingSecretFiles(_ environment: [String: String]) throws -> [String: String] {
        var resolved = environment
        for (name, path) in environment where name.hasPrefix("RADSTREAM_") && name.hasSuffix("_FILE") {
            let target = String(name.dropLast("_FILE".count))
            guard environment[target] == nil else {
                throw ConfigurationError("both \(target) and \(name) are set: give one")
            }
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ConfigurationError("\(name): cannot read \(path): \(error.localizedDescription)")
            }
            resolved[target] = String(text.trimmingSuffix(while: \.isNewline))
            resolved[name] = nil
        }
        return resolved
    }

    /// The configuration with its secrets masked, as `serve --print-config` shows it: the
    /// passwords of both connection strings, and the librdkafka properties that may hold a
    /// credential (SASL, TLS, tokens).
    public var masked: RadStreamConfiguration {
        var copy = self
        copy.postgres.conninfo = Self.maskingPassword(in: postgres.conninfo)
        copy.dashboard.conninfo = Self.maskingPassword(in: dashboard.conninfo)
        for key in kafka.properties.keys where !KafkaConfiguration.mayEcho(key) { copy.kafka.properties[key] = "(hidden)" }
        return copy
    }

    /// A libpq connection string with its password replaced: `password=…` (quoted or not) and
    /// the password of a `postgresql://user:password@host` URI.
    static func maskingPassword(in conninfo: String) -> String {
        conninfo
            .replacing(/password\s*=\s*(?:'(?:[^'\\]|\\.)*'|\S+)/, with: "password=(hidden)")
            .replacing(/(postgres(?:ql)?:\/\/[^:\/@]+:)[^@]*@/) { "\($0.1)(hidden)@" }
    }
}

private extension String {
    func trimmingSuffix(while drop: (Character) -> Bool) -> Substring {
        var end = endIndex
        while end > startIndex, drop(self[index(before: end)]) { end = index(before: end) }
        return self[..<end]
    }
}
