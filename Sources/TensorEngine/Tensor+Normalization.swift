// Normalisations, composed of the primitives (their gradients follow from the primitives' rules).
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
    /// Training uses the batch's statistics and returns them, so that running averages can follow;
    /// evaluation passes `running` statistics instead.
    public func batchNorm(scale: Tensor, shift: Tensor, epsilon: Float = 1e-5,
                          running: (mean: [Float], variance: [Float])? = nil) -> (output: Tensor, mean: [Float], variance: [Float]) {
        let channels = shape[1]
        let statsShape = [1, channels] + [Int](repeating: 1, count: rank - 2)
        let (mean, variance): (Tensor, Tensor)
        if let running {
            (mean, variance) = (Tensor(shape: statsShape, data: running.mean), Tensor(shape: statsShape, data: running.variance))
        } else {
            (mean, variance) = moments(over: [0] + Array(2..<rank))
        }
        let normalised = (self - mean) / (variance + epsilon).sqrt()
        let output = normalised * scale.reshaped(statsShape) + shift.reshaped(statsShape)
        return (output, mean.data, variance.data)
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
