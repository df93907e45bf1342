import Foundation

// Forward rules of the primitive operations. Each output is a new tensor that records how it
// was made; `Tensor+Backward.swift` has the matching gradient rule.
extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor { elementwise(a, b, .add(a, b), +) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { elementwise(a, b, .subtract(a, b), -) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { elementwise(a, b, .multiply(a, b), *) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { elementwise(a, b, .divide(a, b), /) }

    public static func * (a: Tensor, b: Float) -> Tensor { a * Tensor(scalar: b) }
    public static func + (a: Tensor, b: Float) -> Tensor { a + Tensor(scalar: b) }
    public static prefix func - (a: Tensor) -> Tensor { a * -1 }

    private static func elementwise(_ a: Tensor, _ b: Tensor, _ operation: Operation,
                                    _ function: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape {
            return Tensor(shape: a.shape, data: zip(a.data, b.data).map(function), operation: operation)
        }
        let broadcast = Broadcast(a.shape, b.shape)
        return Tensor(shape: broadcast.shape, data: broadcast.apply(a.data, b.data, function), operation: operation)
    }

    private func unary(_ operation: Operation, _ function: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, data: data.map(function), operation: operation)
    }

    public func exp() -> Tensor { unary(.exp(self), Foundation.exp) }
    public func log() -> Tensor { unary(.log(self), Foundation.log) }
    public func relu() -> Tensor { unary(.relu(self)) { max($0, 0) } }
    public func sigmoid() -> Tensor { unary(.sigmoid(self)) { 1 / (1 + Foundation.exp(-$0)) } }
    public func tanh() -> Tensor { unary(.tanh(self), Foundation.tanh) }
    public func sqrt() -> Tensor { unary(.sqrt(self), Foundation.sqrt) }
    public func erf() -> Tensor { unary(.erf(self), Foundation.erf) }

    /// Sum over `axis` (kept, with size 1), or of every element when `axis` is nil.
    public func sum(axis: Int? = nil) -> Tensor {
        guard let axis else {
            return Tensor(shape: [], data: [data.reduce(0, +)], operation: .sum(self, axis: nil))
        }
        let (outer, size, inner) = split(at: axis)
        var out = [Float](repeating: 0, count: outer * inner)
        // Through pointers: indexing the arrays checked bounds and uniqueness at every element,
        // and a sum over the last axis (global average pooling) ran one loop per element.
        withPointers(data) { x in
            withMutablePointers(&out) { y in
                for o in 0..<outer {
                    let target = y + o * inner
                    if inner == 1 {
                        target[0] = VectorKernels.sum(x + o * size, count: size)
                        continue
                    }
                    for s in 0..<size {
                        let source = x + (o * size + s) * inner
                        for i in 0..<inner { target[i] += source[i] }
                    }
                }
            }
        }
        var kept = shape
        kept[axis] = 1
        return Tensor(shape: kept, data: out, operation: .sum(self, axis: axis))
    }

    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: newShape, data: data, operation: .reshape(self))
    }

    /// Swaps the last two axes.
    public func transposed() -> Tensor {
        precondition(rank >= 2, "transpose of \(shape)")
        let (rows, columns) = (shape[rank - 2], shape[rank - 1])
        var out = [Float](repeating: 0, count: count)
        for matrix in 0..<(count / max(1, rows * columns)) {
            let base = matrix * rows * columns
            for r in 0..<rows {
                for c in 0..<columns { out[base + c * rows + r] = data[base + r * columns + c] }
            }
        }
        var swapped = shape
        swapped.swapAt(rank - 2, rank - 1)
        return Tensor(shape: swapped, data: out, operation: .transpose(self))
    }

    /// (elements before `axis`, size of `axis`, elements after it).
    func split(at axis: Int) -> (Int, Int, Int) {
        precondition(axis >= 0 && axis < rank, "axis \(axis) of a tensor of rank \(rank)")
        return (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }
}
