import Summarization
import Synchronization

/// The summarizer's memory of earlier reports as the stream sees it: replaced whole by whoever
/// reads it again (the refresher, from PostgreSQL), read by the summarizer stage at each batch.
public final class ReportMemoryHolder: Sendable {
    private let current: Mutex<ReportMemory?>

    public init(_ memory: ReportMemory? = nil) { current = Mutex(memory) }

    public var memory: ReportMemory? { current.withLock { $0 } }

    public func replace(with memory: ReportMemory) { current.withLock { $0 = memory } }
}
