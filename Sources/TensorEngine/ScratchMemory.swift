#if canImport(Glibc)
import Glibc
#endif

/// Working memory that each thread keeps from one call to the next: the im2col and product
/// buffers of a convolution are megabytes, and allocating them per call made the kernel map and
/// zero fresh pages at every first touch (8% of the daemon's CPU with the classifiers on, perf).
/// Warmed up, a convolution allocates none of them again.
enum ScratchMemory {
    /// Independent buffers a caller may hold at once.
    enum Slot: Int, CaseIterable { case columns, product, padded, packedWeights }

    private final class Buffer {
        var pointer: UnsafeMutablePointer<Float>
        var capacity: Int
        init(capacity: Int) {
            pointer = .allocate(capacity: capacity)
            self.capacity = capacity
        }
        deinit { pointer.deallocate() }
    }

    /// One key per slot; each thread's buffers are released when the thread ends.
    private static let keys: [pthread_key_t] = Slot.allCases.map { _ in
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { if let stored = $0 { Unmanaged<AnyObject>.fromOpaque(stored).release() } }
        precondition(status == 0, "pthread_key_create failed")
        return key
    }

    /// `body` with this thread's buffer of `slot`, at least `count` floats, contents undefined.
    /// Not reentrant for the same slot on one thread.
    static func with<R>(_ slot: Slot, count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        let key = keys[slot.rawValue]
        if let stored = pthread_getspecific(key) {
            let buffer = Unmanaged<Buffer>.fromOpaque(stored).takeUnretainedValue()
            if buffer.capacity >= count { return body(buffer.pointer) }
            buffer.pointer.deallocate()
            buffer.capacity = max(count, buffer.capacity * 2)
            buffer.pointer = .allocate(capacity: buffer.capacity)
            return body(buffer.pointer)
        }
        let buffer = Buffer(capacity: count)
        pthread_setspecific(key, Unmanaged.passRetained(buffer).toOpaque())
        return body(buffer.pointer)
    }
}
