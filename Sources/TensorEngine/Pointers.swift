// The kernels read a few arrays and write one or two through pointers. One call pins them all,
// instead of a pyramid of `withUnsafeBufferPointer` closures, one inside the other. The pointers
// are valid only inside `body`, which may hand them to workers (`concurrentPerform`) that finish
// before it returns. An empty array gives a pointer that must not be read (there is nothing to
// read): the kernels check their counts, as they did with optional base addresses.

/// Read pointers to `a`, `b`, … for the duration of `body`.
@inline(__always)
func withPointers<R>(_ a: [Float], _ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
    try a.withUnsafeBufferPointer { try body($0.baseAddress ?? EmptyArray.pointer) }
}

@inline(__always)
func withPointers<R>(_ a: [Float], _ b: [Float], _ body: (UnsafePointer<Float>, UnsafePointer<Float>) throws -> R) rethrows -> R {
    try withPointers(a) { a in try withPointers(b) { b in try body(a, b) } }
}

@inline(__always)
func withPointers<R>(_ a: [Float], _ b: [Float], _ c: [Float],
                     _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>) throws -> R) rethrows -> R {
    try withPointers(a, b) { a, b in try withPointers(c) { c in try body(a, b, c) } }
}

@inline(__always)
func withPointers<R>(_ a: [Float], _ b: [Float], _ c: [Float], _ d: [Float],
                     _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>) throws -> R)
    rethrows -> R {
    try withPointers(a, b) { a, b in try withPointers(c, d) { c, d in try body(a, b, c, d) } }
}

/// Write pointers to `a`, `b`, … for the duration of `body`.
@inline(__always)
func withMutablePointers<R>(_ a: inout [Float], _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    try a.withUnsafeMutableBufferPointer { try body($0.baseAddress ?? EmptyArray.mutablePointer) }
}

@inline(__always)
func withMutablePointers<R>(_ a: inout [Float], _ b: inout [Float],
                            _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    try withMutablePointers(&a) { a in try withMutablePointers(&b) { b in try body(a, b) } }
}

@inline(__always)
func withMutablePointers<R>(_ a: inout [Float], _ b: inout [Float], _ c: inout [Float],
                            _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) throws -> R)
    rethrows -> R {
    try withMutablePointers(&a, &b) { a, b in try withMutablePointers(&c) { c in try body(a, b, c) } }
}

/// Where an empty array's pointer points: one float no kernel reads or writes (their counts are 0).
private enum EmptyArray {
    nonisolated(unsafe) static let mutablePointer: UnsafeMutablePointer<Float> = {
        let pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        pointer.initialize(to: 0)
        return pointer
    }()
    static var pointer: UnsafePointer<Float> { UnsafePointer(mutablePointer) }
}
