/// What the batch-norm backward pass needs from the forward pass (besides the input, from
/// which it recomputes x̂ rather than keep a copy of the activations).
struct BatchNormStatistics {
    /// The mean and 1/√(variance + ε) the forward pass used, per channel.
    let mean: [Float]
    let inverseDeviation: [Float]
    /// In training the mean and variance depend on the input, and so does their gradient.
    let usedBatchStatistics: Bool
    /// Whether a ReLU followed (fused): the output's zeros then stop the gradient.
    let relu: Bool
}

// Normalisations. Batch norm is a fused primitive (group norm too, in Tensor+GroupNorm.swift);
// layer norm is composed of the primitives (its gradient follows from their rules).
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
        var out = Self.uninitialized(count)
        let residualData = residual?.data ?? []
        withPointers(data) { xPointer in
            nonisolated(unsafe) let x = xPointer
            if running == nil {
                // The moments of each image plane about its channel's first value, in one pass
                // (no large mean cancels out of the variance); then summed over the images in order.
                let planes = Self.planeSums(batch: batch, channels: channels, elements: count) { n, c in
                    VectorKernels.shiftedMoments(x + (n * channels + c) * inner, count: inner, shift: x[c * inner])
                }
                for c in 0..<channels {
                    let (sum, squares) = planes[c]
                    let offset = sum / perChannel
                    mean[c] = x[c * inner] + offset
                    variance[c] = max(0, squares / perChannel - offset * offset)
                }
            }
        }
        let inverseDeviation = variance.map { 1 / ($0 + epsilon).squareRoot() }
        // y = (x − μ)·k·γ + β = x·a + b
        let a = (0..<channels).map { inverseDeviation[$0] * scale.data[$0] }
        let b = (0..<channels).map { shift.data[$0] - mean[$0] * a[$0] }
        withPointers(data, residualData) { xPointer, rPointer in
            withMutablePointers(&out) { yPointer in
                nonisolated(unsafe) let (x, y) = (xPointer, yPointer)
                nonisolated(unsafe) let r = residual == nil ? nil : rPointer  // an empty array's pointer is not to be used
                Self.forEachPlane(batch: batch, channels: channels, elements: count) { n, c in
                    let base = (n * channels + c) * inner
                    VectorKernels.affine(x + base, scale: a[c], offset: b[c], residual: r.map { $0 + base }, relu: relu,
                                         into: y + base, count: inner)
                }
            }
        }
        let statistics = BatchNormStatistics(mean: mean, inverseDeviation: inverseDeviation, usedBatchStatistics: running == nil,
                                             relu: relu)
        let output = Tensor(shape: shape, data: out,
                            operation: .batchNorm(self, scale: scale, shift: shift, residual: residual, statistics: statistics))
        return (output, mean, variance)
    }

    /// Layer normalisation over the last axis, with an affine `scale` and `shift` of that size.
    public func layerNorm(scale: Tensor, shift: Tensor, epsilon: Float = 1e-5) -> Tensor {
        let (mean, variance) = moments(over: [rank - 1])
        return (self - mean) / (variance + epsilon).sqrt() * scale + shift
    }
}

extension Tensor {
    /// `body(image, channel)` for every plane of an NC… tensor, image by image in memory order,
    /// the images shared among the workers when the tensor has `elements` enough. Batch norm
    /// walks its activations so: a channel's planes lie a whole image apart.
    @inline(__always)
    static func forEachPlane(batch: Int, channels: Int, elements: Int, _ body: @Sendable (_ image: Int, _ channel: Int) -> Void) {
        forEachShare(of: batch, elements: elements) { images in
            for n in images {
                for c in 0..<channels { body(n, c) }
            }
        }
    }

    /// Two sums per (image, channel) plane, computed image-major on every worker, then added up
    /// per channel over the images in order: the same figures whatever the number of workers.
    /// Returns each channel's two totals.
    static func planeSums(batch: Int, channels: Int, elements: Int,
                          _ plane: @Sendable (_ image: Int, _ channel: Int) -> (Float, Float)) -> [(Float, Float)] {
        var sums = [(Float, Float)](repeating: (0, 0), count: batch * channels)
        sums.withUnsafeMutableBufferPointer { sums in
            nonisolated(unsafe) let sums = sums.baseAddress!
            forEachPlane(batch: batch, channels: channels, elements: elements) { n, c in sums[n * channels + c] = plane(n, c) }
        }
        return (0..<channels).map { c in
            var totals: (Float, Float) = (0, 0)
            for n in 0..<batch {
                totals.0 += sums[n * channels + c].0
                totals.1 += sums[n * channels + c].1
            }
            return totals
        }
    }
}
