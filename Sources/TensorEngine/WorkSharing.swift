import Dispatch

/// `body(0..<count)` on every core, in index order: for decoding many images, or running a model
/// on many inputs whose weights it only reads.
public func concurrentMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
    results.initialize(repeating: nil)
    defer { results.deallocate() }
    nonisolated(unsafe) let slots = results  // each iteration writes its own slot only
    DispatchQueue.concurrentPerform(iterations: count) { slots[$0] = body($0) }
    return results.map { $0! }
}

extension Tensor {
    /// Below this many elements, a pass over a tensor runs on the calling thread: waking a worker
    /// costs more than it saves.
    static let parallelPassThreshold = 1 << 16

    /// `body` over ranges that cover 0..<count (images of a batch, elements of an array), one
    /// contiguous share per worker when the tensor has `elements` enough, else all on the
    /// calling thread. Each call must write only what its range owns.
    static func forEachShare(of count: Int, elements: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let workers = elements >= parallelPassThreshold ? min(BLAS.workers, count) : 1
        guard workers > 1 else {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            body((worker * count / workers)..<((worker + 1) * count / workers))
        }
    }
}
