/// What the batch-norm backward pass needs from the forward pass.
struct BatchNormStatistics {
    /// (x − mean) / √(variance + ε), laid out as the input.
    let normalised: [Float]
    let inverseDeviation: [Float]
    /// In training the mean and variance depend on the input, and so does their gradient.
    let usedBatchStatistics: Bool
}

// Normalisations. Batch norm is a fused primitive; layer and group norm are composed of the
// primitives (their gradients follow from the primitives' rules).
extension Tensor {
    /// Mean and biased variance over `axes` (each kept with size 1).
    func moments(over axes: [Int]) -> (mean: Tensor, variance: Tensor) {
        let count = Float(axes.reduce(1) { $0 * shape[$1] })
        var mean: Tensor = self
        for axis in axes { mean = mean.sum(axis: axis) }
        mean = mean * (1 / count)
        let centred = self - mean
        var variance = centred * centred
        for axis in axes { variance = variance.sum(axis: axis) }
        return (mean, variance * (1 / count))
    }

    /// Batch normalisation of an NCHW (or NC) batch with per-channel `scale` and `shift` (shape C).
    /// Training uses the batch's statistics and returns them (biased variance), so that running
    /// averages can follow; evaluation passes `running` statistics instead.
    public func batchNorm(scale: Tensor, shift: Tensor, epsilon: Float = 1e-5,
                          running: (mean: [Float], variance: [Float])? = nil) -> (output: Tensor, mean: [Float], variance: [Float]) {
        let channels = shape[1], inner = shape[2...].reduce(1, *), batch = shape[0]
        precondition(scale.count == channels && shift.count == channels, "batch norm of \(shape) with \(scale.shape)")
        let perChannel = Float(batch * inner)
        var mean = running?.mean ?? [Float](repeating: 0, count: channels)
        var variance = running?.variance ?? [Float](repeating: 0, count: channels)
        if running == nil {
            for n in 0..<batch {
                for c in 0..<channels {
                    let base = (n * channels + c) * inner
                    var sum: Float = 0
                    for i in 0..<inner { sum += data[base + i] }
                    mean[c] += sum
                }
            }
            for c in 0..<channels { mean[c] /= perChannel }
            for n in 0..<batch {
                for c in 0..<channels {
                    let base = (n * channels + c) * inner, m = mean[c]
                    var sum: Float = 0
                    for i in 0..<inner { let d = data[base + i] - m; sum += d * d }
                    variance[c] += sum
                }
            }
            for c in 0..<channels { variance[c] /= perChannel }
        }
        let inverseDeviation = variance.map { 1 / ($0 + epsilon).squareRoot() }
        var normalised = Self.uninitialized(count)
        var out = Self.uninitialized(count)
        for n in 0..<batch {
            for c in 0..<channels {
                let base = (n * channels + c) * inner
                let (m, k, g, b) = (mean[c], inverseDeviation[c], scale.data[c], shift.data[c])
                for i in 0..<inner {
                    let xHat = (data[base + i] - m) * k
                    normalised[base + i] = xHat
                    out[base + i] = xHat * g + b
                }
            }
        }
        let statistics = BatchNormStatistics(normalised: normalised, inverseDeviation: inverseDeviation,
                                             usedBatchStatistics: running == nil)
        let output = Tensor(shape: shape, data: out,
                            operation: .batchNorm(self, scale: scale, shift: shift, statistics: statistics))
        return (output, mean, variance)
    }

    /// Layer normalisation over the last axis, with an affine `scale` and `shift` of that size.
    public func layerNorm(scale: Tensor, shift: Tensor, epsilon: Float = 1e-5) -> Tensor {
        let (mean, variance) = moments(over: [rank - 1])
        return (self - mean) / (variance + epsilon).sqrt() * scale + shift
    }

    /// Group normalisation of NCHW: channels in `groups` groups, each normalised over its
    /// channels and pixels, then a per-channel affine.
    public func groupNorm(groups: Int, scale: Tensor, shift: Tensor, epsilon: Float = 1e-5) -> Tensor {
        let (n, c) = (shape[0], shape[1])
        precondition(c % groups == 0, "\(c) channels in \(groups) groups")
        let grouped = reshaped([n, groups, count / (n * groups)])
        let (mean, variance) = grouped.moments(over: [2])
        let normalised = ((grouped - mean) / (variance + epsilon).sqrt()).reshaped(shape)
        let affine = [1, c] + [Int](repeating: 1, count: rank - 2)
        return normalised * scale.reshaped(affine) + shift.reshaped(affine)
    }
}
