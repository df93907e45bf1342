import Synchronization

/// A decoder's own recent outputs, to draft from: the captioner writes the same few impressions
/// for most films (of 4,690 training films, 3,350 get one 44-token impression and 1,212 another),
/// so the rest of an output whose start matches an earlier one is usually that one's rest. Greedy
/// decoding feeds such a draft in one step and keeps what its own choices confirm
/// (`SummarizerTransformer.greedy(memory:maximumLength:drafts:)`): the same outputs, in far fewer
/// steps. Bounded (the `capacity` most used outputs stay); safe to share between threads.
public final class DraftBook: Sendable {
    private struct Entry {
        var tokens: [Int]
        var uses: Int
    }

    public let capacity: Int
    private let entries = Mutex([Entry]())

    public init(capacity: Int = 32) {
        precondition(capacity > 0, "a draft book holds at least one output")
        self.capacity = capacity
    }

    /// The tokens after `prefix` in the most used output that starts with it, at most `limit`,
    /// ending with `<eos>` where the output ends; empty when none does.
    public func continuation(of prefix: [Int], limit: Int) -> [Int] {
        guard limit > 0 else { return [] }
        return entries.withLock { entries in
            guard let entry = entries.first(where: { $0.tokens.count > prefix.count && $0.tokens.starts(with: prefix) }) else { return [] }
            return Array(entry.tokens[prefix.count..<min(entry.tokens.count, prefix.count + limit)])
        }
    }

    /// Records a finished output (the `<eos>` it ended with is added): counted again if it is
    /// known; otherwise it takes the place of the least used once the book is full.
    public func record(_ output: [Int], ended: Bool) {
        let tokens = ended ? output + [ReportVocabulary.end] : output
        entries.withLock { entries in
            if let index = entries.firstIndex(where: { $0.tokens == tokens }) {
                entries[index].uses += 1
                // Kept in order of use, so that the first match is the most used.
                var moved = index
                while moved > 0 && entries[moved - 1].uses < entries[moved].uses {
                    entries.swapAt(moved - 1, moved)
                    moved -= 1
                }
            } else if entries.count < capacity {
                entries.append(Entry(tokens: tokens, uses: 1))
            } else {
                entries[entries.count - 1] = Entry(tokens: tokens, uses: 1)
            }
        }
    }

    /// Outputs held.
    public var count: Int { entries.withLock { $0.count } }
}
