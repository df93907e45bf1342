import CKafka

/// librdkafka properties (`bootstrap.servers`, `group.id`, …) as a dictionary, turned into an
/// `rd_kafka_conf_t` only at the moment a client is created.
public struct KafkaConfiguration: Sendable {
    public var properties: [String: String]

    public init(_ properties: [String: String] = [:]) {
        self.properties = properties
    }

    public subscript(key: String) -> String? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    /// The same properties less those only a consumer reads, which librdkafka would warn about
    /// in a producer: one configuration can then serve both.
    public func forProducer() -> KafkaConfiguration {
        let consumerOnly: Set = ["group.id", "group.instance.id", "session.timeout.ms", "heartbeat.interval.ms",
                                 "max.poll.interval.ms", "auto.offset.reset", "enable.auto.commit",
                                 "enable.auto.offset.store", "partition.assignment.strategy", "isolation.level",
                                 "auto.commit.interval.ms", "enable.partition.eof"]
        return KafkaConfiguration(properties.filter { !consumerOnly.contains($0.key) && !$0.key.hasPrefix("fetch.") })
    }

    /// Whether a property's value may appear in a message: not when its name looks like it
    /// could hold a credential (passwords, keys, tokens, secrets, SASL and TLS settings).
    public static func mayEcho(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return !["pass", "secret", "key", "token", "credential", "jaas", "sasl", "ssl", "oauth", "cert"].contains { lowered.contains($0) }
    }

    /// A new conf object, owned by the caller until `rd_kafka_new` succeeds with it.
    func makeConf() throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError("rd_kafka_conf_new failed") }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, key, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                // A mistyped `sasl.pasword` is still a password: its value is never echoed.
                guard Self.mayEcho(key) else {
                    let text = KafkaError.text(errorText).replacingOccurrences(of: value, with: "(hidden)")
                    throw KafkaError("configuration \(key) (value hidden): \(text)")
                }
                throw KafkaError("configuration \(key)=\(value): \(KafkaError.text(errorText))")
            }
        }
        KafkaLog.install(on: conf)
        return conf
    }
}
