import Dispatch
import Foundation
import Synchronization

/// The engine's workers: how many threads a product, a convolution or a pass over a tensor is
/// spread over (every core by default). The work itself is cut where it is done — products into
/// blocks of C (`BLAS.sgemm`), convolutions into chunks of images, passes into shares of a batch
/// (`Tensor.forEachShare`) — and run by `DispatchQueue.concurrentPerform`.
public enum EngineWorkers {
    private static let engineCount = Atomic<Int>(ProcessInfo.processInfo.activeProcessorCount)

    /// How many workers the engine's products and convolutions use (default: every core).
    public static func setCount(_ count: Int) {
        engineCount.store(max(1, count), ordering: .relaxed)
    }

    /// The workers of the calling thread: its own count inside `with`, the engine's otherwise.
    public static var count: Int {
        if let own = pthread_getspecific(threadCountKey) { return Int(bitPattern: own) }
        return engineCount.load(ordering: .relaxed)
    }

    /// Runs `body` with at most `count` workers for the products and convolutions the calling
    /// thread starts, leaving every other thread's share alone: self-training runs beside the
    /// stream on one core while the stream's models keep every core.
    public static func with<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(threadCountKey)
        pthread_setspecific(threadCountKey, UnsafeRawPointer(bitPattern: max(1, count)))
        defer { pthread_setspecific(threadCountKey, previous) }
        return try body()
    }

    /// The key of each thread's own worker count (unset: the engine's).
    private static let threadCountKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
}

/// `body(0..<count)` on every core, in index order: for decoding many images, or running a model
/// on many inputs whose weights it only reads.
public func concurrentMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
    results.initialize(repeating: nil)
    defer { results.deallocate() }
    nonisolated(unsafe) let slots = results  // each iteration writes its own slot only
    DispatchQueue.concurrentPerform(iterations: count) { slots[$0] = body($0) }
    // Moved out of the slots, not copied: freeing a buffer does not release what its slots hold,
    // so a copied result (an event's bytes, a report's encoder states) was never freed — the
    // daemon grew by every event it processed.
    return (0..<count).map { results.moveElement(from: $0)! }
}

extension Tensor {
    /// Below this many elements, a pass over a tensor runs on the calling thread: waking a worker
    /// costs more than it saves.
    static let parallelPassThreshold = 1 << 16

    /// `body` over ranges that cover 0..<count (images of a batch, elements of an array), one
    /// contiguous share per worker when the tensor has `elements` enough, else all on the
    /// calling thread. Each call must write only what its range owns.
    static func forEachShare(of count: Int, elements: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let workers = elements >= parallelPassThreshold ? min(EngineWorkers.count, count) : 1
        guard workers > 1 else {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            body((worker * count / workers)..<((worker + 1) * count / workers))
        }
    }
}
