/// NumPy's broadcasting: shapes are aligned on their last axes; an axis of size 1 stretches.
struct Broadcast {
    let shape: [Int]
    /// For each output element, the element of each input it reads.
    let leftIndex: [Int]
    let rightIndex: [Int]

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
        leftIndex = Self.indices(of: l, in: shape)
        rightIndex = Self.indices(of: r, in: shape)
    }

    /// Where each element of `shape` reads from an input of `inputShape` (same rank).
    static func indices(of inputShape: [Int], in shape: [Int]) -> [Int] {
        let count = shape.reduce(1, *)
        if inputShape == shape { return Array(0..<count) }
        // Input strides, zero along stretched axes.
        var strides = [Int](repeating: 0, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = inputShape[axis] == 1 ? 0 : running
            running *= inputShape[axis]
        }
        var result = [Int](repeating: 0, count: count)
        var coordinate = [Int](repeating: 0, count: shape.count)
        var index = 0
        for flat in 0..<count {
            result[flat] = index
            // Advance the coordinate like an odometer, keeping the input index in step.
            var axis = shape.count - 1
            while axis >= 0 {
                coordinate[axis] += 1
                index += strides[axis]
                if coordinate[axis] < shape[axis] { break }
                index -= strides[axis] * coordinate[axis]
                coordinate[axis] = 0
                axis -= 1
            }
        }
        return result
    }
}
