// Forward rules that move values around without arithmetic: permute, concat, slice, embedding.
extension Tensor {
    /// Output axis i is input axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "\(axes) is not a permutation of \(rank) axes")
        let newShape = axes.map { shape[$0] }
        let index = Self.permutationIndex(shape: shape, axes: axes)
        return Tensor(shape: newShape, data: index.map { data[$0] }, operation: .permute(self, axes: axes))
    }

    /// For each element of the permuted tensor, the element of the original it holds.
    static func permutationIndex(shape: [Int], axes: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        let newShape = axes.map { shape[$0] }
        let newStrides = axes.map { strides[$0] }
        let count = shape.reduce(1, *)
        var result = [Int](repeating: 0, count: count)
        var coordinate = [Int](repeating: 0, count: shape.count)
        var source = 0
        for flat in 0..<count {
            result[flat] = source
            var axis = newShape.count - 1
            while axis >= 0 {
                coordinate[axis] += 1
                source += newStrides[axis]
                if coordinate[axis] < newShape[axis] { break }
                source -= newStrides[axis] * coordinate[axis]
                coordinate[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat of nothing")
        let first = tensors[0]
        for t in tensors {
            precondition(t.rank == first.rank && (0..<first.rank).allSatisfy { $0 == axis || t.shape[$0] == first.shape[$0] },
                         "cannot concat \(t.shape) with \(first.shape) along \(axis)")
        }
        let outer = first.shape[..<axis].reduce(1, *)
        var data: [Float] = []
        data.reserveCapacity(tensors.reduce(0) { $0 + $1.count })
        for o in 0..<outer {
            for t in tensors {
                let block = t.count / max(outer, 1)
                data.append(contentsOf: t.data[(o * block)..<((o + 1) * block)])
            }
        }
        var shape = first.shape
        shape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        return Tensor(shape: shape, data: data, operation: .concat(tensors, axis: axis))
    }

    public func slice(axis: Int, start: Int, length: Int) -> Tensor {
        let (outer, size, inner) = split(at: axis)
        precondition(start >= 0 && length >= 0 && start + length <= size, "slice \(start)..<\(start + length) of \(size)")
        var data: [Float] = []
        data.reserveCapacity(outer * length * inner)
        for o in 0..<outer {
            let from = (o * size + start) * inner
            data.append(contentsOf: self.data[from..<(from + length * inner)])
        }
        var newShape = shape
        newShape[axis] = length
        return Tensor(shape: newShape, data: data, operation: .slice(self, axis: axis, start: start))
    }

    /// Rows of this (vocabulary × width) table: the result is `indices.count × width`.
    public func embedding(_ indices: [Int]) -> Tensor {
        precondition(rank == 2, "an embedding table is a matrix, not \(shape)")
        let width = shape[1]
        var data: [Float] = []
        data.reserveCapacity(indices.count * width)
        for index in indices {
            precondition(index >= 0 && index < shape[0], "index \(index) outside a vocabulary of \(shape[0])")
            data.append(contentsOf: self.data[(index * width)..<((index + 1) * width)])
        }
        return Tensor(shape: [indices.count, width], data: data, operation: .embedding(self, indices: indices))
    }
}
