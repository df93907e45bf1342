/// NumPy's broadcasting: shapes are aligned on their last axes; an axis of size 1 stretches.
///
/// The output is walked as runs along its innermost (coalesced) axis, each input read with its
/// own stride (0 where it is stretched), so that no index table is ever built.
struct Broadcast {
    let shape: [Int]
    /// Loop extents after dropping size-1 axes and merging axes that stay contiguous in both inputs.
    private let extents: [Int]
    private let leftStrides: [Int]
    private let rightStrides: [Int]

    init(_ left: [Int], _ right: [Int]) {
        let rank = max(left.count, right.count)
        let l = [Int](repeating: 1, count: rank - left.count) + left
        let r = [Int](repeating: 1, count: rank - right.count) + right
        var shape: [Int] = []
        for (a, b) in zip(l, r) {
            precondition(a == b || a == 1 || b == 1, "shapes \(left) and \(right) do not broadcast")
            shape.append(a == 1 ? b : a)
        }
        self.shape = shape
        let ls = Self.strides(of: l, in: shape), rs = Self.strides(of: r, in: shape)
        var extents: [Int] = [], leftStrides: [Int] = [], rightStrides: [Int] = []
        for axis in shape.indices where shape[axis] > 1 {
            if let last = extents.indices.last,
               leftStrides[last] == ls[axis] * shape[axis], rightStrides[last] == rs[axis] * shape[axis] {
                extents[last] *= shape[axis]
                leftStrides[last] = ls[axis]
                rightStrides[last] = rs[axis]
            } else {
                extents.append(shape[axis])
                leftStrides.append(ls[axis])
                rightStrides.append(rs[axis])
            }
        }
        self.extents = extents.isEmpty ? [1] : extents
        self.leftStrides = leftStrides.isEmpty ? [0] : leftStrides
        self.rightStrides = rightStrides.isEmpty ? [0] : rightStrides
    }

    var count: Int { shape.reduce(1, *) }

    /// Row-major strides of an input, zero along the axes it is stretched on.
    private static func strides(of inputShape: [Int], in shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = inputShape[axis] == 1 ? 0 : running
            running *= inputShape[axis]
        }
        return strides
    }

    /// Calls `body(output, left, right, length, leftStep, rightStep)` for each innermost run.
    func forEachRun(_ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let inner = extents.count - 1
        let (length, leftStep, rightStep) = (extents[inner], leftStrides[inner], rightStrides[inner])
        var coordinate = [Int](repeating: 0, count: inner)
        var output = 0, left = 0, right = 0
        while true {
            body(output, left, right, length, leftStep, rightStep)
            output += length
            // Advance the outer axes like an odometer, keeping the input offsets in step.
            var axis = inner - 1
            while axis >= 0 {
                coordinate[axis] += 1
                left += leftStrides[axis]
                right += rightStrides[axis]
                if coordinate[axis] < extents[axis] { break }
                left -= leftStrides[axis] * extents[axis]
                right -= rightStrides[axis] * extents[axis]
                coordinate[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }

    /// `function(left, right)` for every output element.
    func apply(_ a: [Float], _ b: [Float], _ function: (Float, Float) -> Float) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            withPointers(a, b) { a, b in
                forEachRun { o, l, r, length, ls, rs in
                    for i in 0..<length { out[o + i] = function(a[l + i * ls], b[r + i * rs]) }
                }
            }
            initialized = count
        }
    }
}
