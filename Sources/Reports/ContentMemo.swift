import Synchronization

/// What was already worked out for the same words, kept by content: normal findings repeat word
/// for word across a hospital's reports, and the labeler's reading of the same sentence, the
/// summarizer's impression and its candidates' likelihoods of the same findings are the same
/// every time. Bounded: two generations of at most `capacity` entries each; when the newer
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
