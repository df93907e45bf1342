import Foundation
import Prometheus

/// What the gateway has taken and refused since it started: served at `/metrics`, logged at
/// exit, asserted by tests.
public final class GatewayCounters: @unchecked Sendable {
    public struct Snapshot: Sendable, Equatable, Codable {
        public var instancesStored = 0
        public var instancesRefused = 0
        public var messagesAccepted = 0
        public var messagesNotForwarded = 0
        public var messagesRejected = 0
        public var messagesFailed = 0
    }

    public let registry = PrometheusCollectorRegistry()
    private let lock = NSLock()
    private var counts = Snapshot()

    public init() {}

    public var snapshot: Snapshot {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }

    func count(instance status: DimseStatus) {
        lock.withLock { if status == .success { counts.instancesStored += 1 } else { counts.instancesRefused += 1 } }
        registry.makeCounter(name: "radstream_gateway_instances_total",
                             labels: [("status", String(format: "%04X", status.code))],
                             help: "C-STORE requests answered, by DIMSE status (0000: stored and on Kafka)").increment()
    }

    func count(message acknowledgement: HL7Acknowledgement, forwarded: Bool) {
        lock.withLock {
            switch acknowledgement.code {
            case .accept: if forwarded { counts.messagesAccepted += 1 } else { counts.messagesNotForwarded += 1 }
            case .reject: counts.messagesRejected += 1
            case .error: counts.messagesFailed += 1
            }
        }
        registry.makeCounter(name: "radstream_gateway_messages_total",
                             labels: [("acknowledgement", acknowledgement.code.rawValue), ("forwarded", forwarded ? "true" : "false")],
                             help: "HL7 messages answered, by acknowledgement code and whether a report event was published").increment()
    }
}
