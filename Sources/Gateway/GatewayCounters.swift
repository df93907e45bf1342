import Foundation

/// What the gateway has taken and refused since it started: logged at exit, asserted by tests.
public final class GatewayCounters: @unchecked Sendable {
    public struct Snapshot: Sendable, Equatable, Codable {
        public var instancesStored = 0
        public var instancesRefused = 0
        public var messagesAccepted = 0
        public var messagesNotForwarded = 0
        public var messagesRejected = 0
        public var messagesFailed = 0
    }

    private let lock = NSLock()
    private var counts = Snapshot()

    public init() {}

    public var snapshot: Snapshot {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }

    func count(instance status: DimseStatus) {
        lock.lock()
        defer { lock.unlock() }
        if status == .success { counts.instancesStored += 1 } else { counts.instancesRefused += 1 }
    }

    func count(message acknowledgement: HL7Acknowledgement, forwarded: Bool) {
        lock.lock()
        defer { lock.unlock() }
        switch acknowledgement.code {
        case .accept: if forwarded { counts.messagesAccepted += 1 } else { counts.messagesNotForwarded += 1 }
        case .reject: counts.messagesRejected += 1
        case .error: counts.messagesFailed += 1
        }
    }
}
