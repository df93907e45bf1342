import Foundation
import Synchronization

/// What the consumer thread and the HTTP probes share: stop requests and readiness.
public final class DaemonStatus: Sendable {
    private struct State {
        var stopRequested = false
        var databaseUp = false
        var subscribed = false
    }

    private let state = Mutex(State())
    private let wake = NSCondition()

    public init() {}

    public var stopRequested: Bool { state.withLock { $0.stopRequested } }

    /// Asks the consumer to finish its batch, commit and leave; wakes it if it is waiting.
    public func requestStop() {
        state.withLock { $0.stopRequested = true }
        wake.lock()
        wake.broadcast()
        wake.unlock()
    }

    /// Sleeps, but returns at once when a stop is requested.
    public func sleep(_ duration: Duration) {
        let deadline = Date().addingTimeInterval(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
        wake.lock()
        defer { wake.unlock() }
        while !stopRequested && Date() < deadline { _ = wake.wait(until: deadline) }
    }

    /// Ready to take traffic: subscribed to the topics with a working database connection.
    public var isReady: Bool { state.withLock { $0.subscribed && $0.databaseUp && !$0.stopRequested } }

    func setDatabaseUp(_ up: Bool) { state.withLock { $0.databaseUp = up } }
    func setSubscribed(_ subscribed: Bool) { state.withLock { $0.subscribed = subscribed } }
}
