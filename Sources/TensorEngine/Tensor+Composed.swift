// Operations built from the primitives: their gradients come from the primitives' rules.
extension Tensor {
    public func mean() -> Tensor { sum() * (1 / Float(count)) }

    public func mean(axis: Int) -> Tensor { sum(axis: axis) * (1 / Float(shape[axis])) }

    /// The largest value along `axis` (kept), as a constant: subtracting it changes neither
    /// softmax nor its gradient, and keeps `exp` from overflowing.
    func detachedMax(axis: Int) -> Tensor {
        let (outer, size, inner) = split(at: axis)
        var out = [Float](repeating: -.infinity, count: outer * inner)
        for o in 0..<outer {
            for s in 0..<size {
                for i in 0..<inner { out[o * inner + i] = max(out[o * inner + i], data[(o * size + s) * inner + i]) }
            }
        }
        var kept = shape
        kept[axis] = 1
        return Tensor(shape: kept, data: out)
    }

    public func logSoftmax(axis: Int) -> Tensor {
        let shifted = self - detachedMax(axis: axis)
        return shifted - shifted.exp().sum(axis: axis).log()
    }

    public func softmax(axis: Int) -> Tensor {
        let exponentials = (self - detachedMax(axis: axis)).exp()
        return exponentials / exponentials.sum(axis: axis)
    }

    /// One-hot targets (labels × classes) for `crossEntropy`.
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        var data = [Float](repeating: 0, count: labels.count * classes)
        for (row, label) in labels.enumerated() { data[row * classes + label] = 1 }
        return Tensor(shape: [labels.count, classes], data: data)
    }

    /// Mean cross-entropy of logits (batch × classes) against target distributions (one-hot or
    /// soft), with optional label smoothing toward the uniform distribution.
    public func crossEntropy(targets: Tensor, labelSmoothing: Float = 0) -> Tensor {
        precondition(rank == 2 && targets.shape == shape, "cross-entropy of \(shape) against \(targets.shape)")
        let classes = Float(shape[1])
        let smoothed = labelSmoothing == 0 ? targets : targets * (1 - labelSmoothing) + labelSmoothing / classes
        return -(smoothed * logSoftmax(axis: 1)).sum() * (1 / Float(shape[0]))
    }
}
