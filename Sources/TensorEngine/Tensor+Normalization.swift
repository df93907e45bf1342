import Dispatch
/// What the batch-norm backward pass needs from the forward pass.
struct BatchNormStatistics {
    /// (x − mean) / √(variance + ε), laid out as the input.
    let normalised: [Float]
    let inverseDeviation: [Float]
    /// In training the mean and variance depend on the input, and so does their gradient.
    let usedBatchStatistics: Bool
    /// Whether a ReLU followed (fused): the output's zeros then stop the gradient.
    let relu: Bool
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
    ///
    /// What follows a batch norm in a residual network can be fused in: `adding` a residual
    /// (same shape), then a ReLU — one pass over the activations instead of three, and one
    /// gradient rule instead of three arrays made and added in the backward pass.
    public func batchNorm(scale: Tensor, shift: Tensor, epsilon: Float = 1e-5,
                          running: (mean: [Float], variance: [Float])? = nil, adding residual: Tensor? = nil,
                          relu: Bool = false) -> (output: Tensor, mean: [Float], variance: [Float]) {
        let channels = shape[1], inner = shape[2...].reduce(1, *), batch = shape[0]
        precondition(scale.count == channels && shift.count == channels, "batch norm of \(shape) with \(scale.shape)")
        precondition(residual == nil || residual!.shape == shape, "a residual of \(residual!.shape) added to \(shape)")
        let perChannel = Float(batch * inner)
        var mean = running?.mean ?? [Float](repeating: 0, count: channels)
        var variance = running?.variance ?? [Float](repeating: 0, count: channels)
        var inverseDeviation = [Float](repeating: 0, count: channels)
        var normalised = Self.uninitialized(count)
        var out = Self.uninitialized(count)
        let usesBatch = running == nil
        let residualData = residual?.data ?? []
        data.withUnsafeBufferPointer { x in
            mean.withUnsafeMutableBufferPointer { meanBuffer in
              variance.withUnsafeMutableBufferPointer { varianceBuffer in
                inverseDeviation.withUnsafeMutableBufferPointer { kBuffer in
                  normalised.withUnsafeMutableBufferPointer { xHatBuffer in
                    out.withUnsafeMutableBufferPointer { outBuffer in
                      residualData.withUnsafeBufferPointer { residualBuffer in
                        nonisolated(unsafe) let (x, mean, variance, k) = (x.baseAddress!, meanBuffer.baseAddress!, varianceBuffer.baseAddress!,
                                                                         kBuffer.baseAddress!)
                        nonisolated(unsafe) let (xHat, y) = (xHatBuffer.baseAddress!, outBuffer.baseAddress!)
                        nonisolated(unsafe) let r = residual == nil ? nil : residualBuffer.baseAddress
                        nonisolated(unsafe) let (g, b) = (scale.data, shift.data)
                        // Channels are independent: each worker takes a range of them, over every image.
                        Self.forEachChannelRange(channels, elements: count) { range in
                            for c in range {
                                if usesBatch {
                                    // Sums per image plane, then over the planes: fewer rounding steps on one accumulator.
                                    var sum: Float = 0
                                    for n in 0..<batch { sum += VectorKernels.sum(x + (n * channels + c) * inner, count: inner) }
                                    let m = sum / perChannel
                                    var squares: Float = 0
                                    for n in 0..<batch {
                                        squares += VectorKernels.squaredDeviations(x + (n * channels + c) * inner, count: inner, mean: m)
                                    }
                                    mean[c] = m
                                    variance[c] = squares / perChannel
                                }
                                let (m, inverse) = (mean[c], 1 / (variance[c] + epsilon).squareRoot())
                                k[c] = inverse
                                let (gamma, beta) = (g[c], b[c])
                                for n in 0..<batch {
                                    let base = (n * channels + c) * inner
                                    let (xs, normals, ys) = (x + base, xHat + base, y + base)
                                    for i in 0..<inner { normals[i] = (xs[i] - m) * inverse }
                                    switch (r.map { $0 + base }, relu) {
                                    case (nil, false): for i in 0..<inner { ys[i] = normals[i] * gamma + beta }
                                    case (nil, true): for i in 0..<inner { ys[i] = max(normals[i] * gamma + beta, 0) }
                                    case (let rs?, false): for i in 0..<inner { ys[i] = normals[i] * gamma + beta + rs[i] }
                                    case (let rs?, true): for i in 0..<inner { ys[i] = max(normals[i] * gamma + beta + rs[i], 0) }
                                    }
                                }
                            }
                        }
                      }
                    }
                  }
                }
              }
            }
        }
        let statistics = BatchNormStatistics(normalised: normalised, inverseDeviation: inverseDeviation,
                                             usedBatchStatistics: running == nil, relu: relu)
        let output = Tensor(shape: shape, data: out,
                            operation: .batchNorm(self, scale: scale, shift: shift, residual: residual, statistics: statistics))
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

extension Tensor {
    /// Below this many elements, a per-channel loop runs on the calling thread.
    static let channelParallelThreshold = 1 << 16

    /// `body` over ranges of channels that cover 0..<channels, one per worker when the tensor is
    /// large enough (the ranges are disjoint: each call writes only its channels).
    static func forEachChannelRange(_ channels: Int, elements: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let workers = elements >= channelParallelThreshold ? min(BLAS.workers, channels) : 1
        guard workers > 1 else {
            body(0..<channels)
            return
        }
        let size = (channels + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            body((worker * size)..<min(channels, (worker + 1) * size))
        }
    }
}
