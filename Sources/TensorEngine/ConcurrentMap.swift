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
