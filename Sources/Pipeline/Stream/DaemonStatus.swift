import Foundation
import Kafka
import Synchronization

/// What the consumer thread and the HTTP probes share: stop requests and readiness.
public final class DaemonStatus: Sendable {
    private struct State {
        var stopRequested = false
        /// Why PostgreSQL cannot do a connection's work now, by connection (the consumer's, the
        /// model watcher's); none once it does. The consumer's starts as "not connected yet".
        var databaseProblems: [String: String] = [DatabaseSession.consumer: "not connected to PostgreSQL yet"]
        var subscribed = false
        /// Assigned partitions the consumer will not fetch, each with why.
        var heldPartitions: [String] = []
        /// Progress: when a batch last committed (or the consumer was last caught up), the
        /// records waiting in Kafka at the last look, and the batches handed to the committer
        /// and not committed yet.
        var lastProgress = ContinuousClock.now
        var lag: Int64 = 0
        /// The records waiting in each partition held, at the last look (the lag recorder's).
        var partitionLags: [TopicPartition: Int64] = [:]
        var batchesInFlight = 0
    }

    private let state = Mutex(State())
    private let wake = NSCondition()
    /// With work waiting, no progress for this long makes the daemon not ready.
    private let stallAfter: Duration

    public init(stallAfter: Duration = .seconds(60)) {
        self.stallAfter = stallAfter
    }

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

    /// Ready to take traffic: subscribed to the topics with a working database connection, and
    /// not stalled.
    public var isReady: Bool { notReadyReasons.isEmpty }

    /// Why the daemon is not ready; empty when it is.
    public var notReadyReasons: [String] {
        let now = ContinuousClock.now
        return state.withLock { state in
            var reasons: [String] = []
            if state.stopRequested { reasons.append("stopping") }
            if !state.subscribed { reasons.append("not subscribed to the topics") }
            reasons += state.databaseProblems.sorted { $0.key < $1.key }.map(\.value)
            reasons += state.heldPartitions.map { "held \($0)" }
            let idle = now - state.lastProgress
            if state.subscribed && idle > stallAfter && (state.lag > 0 || state.batchesInFlight > 0) {
                reasons.append("""
                    stalled: no batch committed for \(idle.components.seconds) s with \(state.lag) records waiting in Kafka \
                    and \(state.batchesInFlight) batches waiting to commit
                    """)
            }
            return reasons
        }
    }

    func setHeldPartitions(_ reasons: [String]) { state.withLock { $0.heldPartitions = reasons } }
    func setDatabaseProblem(_ problem: String?, of connection: String) { state.withLock { $0.databaseProblems[connection] = problem } }
    func setSubscribed(_ subscribed: Bool) {
        state.withLock {
            $0.subscribed = subscribed
            $0.lastProgress = .now
        }
    }

    // MARK: Progress, for the stall check

    /// The records waiting in each assigned partition, and those consumed into the batch in hand;
    /// none waiting and nothing in flight is progress too (caught up).
    func setLag(_ lags: [TopicPartition: Int64], inHand: Int) {
        let lag = lags.values.reduce(0, +) + Int64(inHand)
        state.withLock {
            $0.lag = lag
            $0.partitionLags = lags
            if lag == 0 && $0.batchesInFlight == 0 { $0.lastProgress = .now }
        }
    }

    /// The records waiting in each partition this daemon holds, as the consumer last saw them.
    var partitionLags: [TopicPartition: Int64] { state.withLock { $0.partitionLags } }

    func batchSubmitted() { state.withLock { $0.batchesInFlight += 1 } }

    func batchCommitted() {
        state.withLock {
            $0.batchesInFlight = max(0, $0.batchesInFlight - 1)
            $0.lastProgress = .now
        }
    }
}
