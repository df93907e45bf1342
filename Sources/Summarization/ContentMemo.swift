import Reports
import Synchronization

/// What was already worked out for the same words, kept by content: normal findings repeat word
/// for word across a hospital's reports, and the summarizer's impression and its candidates'
/// likelihoods of the same findings (or the labeler's reading of the same impression) are the
/// same every time. Bounded: two generations of at most `capacity` entries each; when the newer
/// is full it replaces the older, so what was used lately stays and memory stays flat. Safe to
/// share between threads.
public final class ContentMemo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Generations {
        var newer: [Key: Value] = [:], older: [Key: Value] = [:]
    }

    public let capacity: Int
    private let generations = Mutex(Generations())

    public init(capacity: Int) {
        precondition(capacity > 0, "a memo holds at least one entry")
        self.capacity = capacity
    }

    /// The value kept for `key`, if any (one found in the older generation moves to the newer).
    public subscript(key: Key) -> Value? {
        generations.withLock { state in
            if let value = state.newer[key] { return value }
            guard let value = state.older[key] else { return nil }
            Self.insert(key, value, into: &state, capacity: capacity)
            return value
        }
    }

    public func store(_ value: Value, for key: Key) {
        generations.withLock { Self.insert(key, value, into: &$0, capacity: capacity) }
    }

    /// Entries kept in both generations.
    public var count: Int { generations.withLock { $0.newer.count + $0.older.count } }

    private static func insert(_ key: Key, _ value: Value, into state: inout Generations, capacity: Int) {
        if state.newer.count >= capacity, state.newer[key] == nil {
            state.older = state.newer
            state.newer = [:]
        }
        state.newer[key] = value
    }
}

/// The summarizer's memos, by the source's token ids (the findings as the model reads them).
final class SummaryMemo: Sendable {
    /// The decoded output of a source: 10,000 sources of up to 200 tokens are a few megabytes.
    let decoded = ContentMemo<DecodedKey, [Int]>(capacity: 10_000)
    /// The log-likelihood of each candidate scored against a source.
    let likelihoods = ContentMemo<[Int], [[Int]: Float]>(capacity: 5_000)
    /// The token ids of a candidate's text (earlier reports' impressions are candidates of report
    /// after report).
    let encodedCandidates = ContentMemo<String, [Int]>(capacity: 20_000)
    /// What the labeler reads as stated in a text: findings, the model's own impressions, the
    /// impressions the daemon compares.
    let stated = ContentMemo<String, Set<Observation>>(capacity: 20_000)
}

struct DecodedKey: Hashable, Sendable {
    let decoding: Summarizer.Decoding
    let maximumLength: Int
    let source: [Int]
}
