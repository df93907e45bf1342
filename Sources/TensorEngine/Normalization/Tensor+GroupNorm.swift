import Foundation

/// What the group-norm backward pass needs from the forward pass: each (image, group)'s mean and
/// 1/√(variance + ε); x̂ and the pre-activation are recomputed from the input.
struct GroupNormStatistics {
    let groups: Int
    let mean: [Float]
    let inverseDeviation: [Float]
    /// Whether a SiLU followed (fused).
    let silu: Bool
}

// Group normalisation (Wu & He, 2018), fused with the SiLU that follows it in a diffusion
// U-Net's residual blocks: one primitive with one gradient rule, where the composed form took a
// dozen passes over the activations each way. The statistics are per image, so training and
// inference compute the same thing, whatever the batch.
extension Tensor {
    /// Group normalisation of (N, C, …): the channels in `groups` groups, each normalised over its
    /// channels and positions, then the per-channel affine, then SiLU (x·σ(x)) when `silu`.
    public func groupNorm(groups: Int, scale: Tensor, shift: Tensor, epsilon: Float = 1e-5, silu: Bool = false) -> Tensor {
        let (batch, channels) = (shape[0], shape[1])
        precondition(rank >= 2 && channels % groups == 0, "\(channels) channels in \(groups) groups")
        precondition(scale.count == channels && shift.count == channels, "group norm of \(shape) with \(scale.shape)")
        let inner = count / max(batch * channels, 1), perGroup = channels / groups
        let groupSize = perGroup * inner
        var mean = [Float](repeating: 0, count: batch * groups), inverse = mean
        var out = Self.uninitialized(count)
        let (gamma, beta) = (scale.data, shift.data)
        withPointers(data) { xPointer in
            withMutablePointers(&out, &mean, &inverse) { yPointer, meanPointer, inversePointer in
                nonisolated(unsafe) let (x, y, means, inverses) = (xPointer, yPointer, meanPointer, inversePointer)
                Self.forEachShare(of: batch, elements: count) { images in
                    for n in images {
                        for g in 0..<groups {
                            let base = (n * channels + g * perGroup) * inner
                            // About the group's first value: no large mean cancels out of the variance.
                            let pivot = x[base]
                            var sum: Float = 0, squares: Float = 0
                            for i in 0..<groupSize {
                                let v = x[base + i] - pivot
                                sum += v
                                squares += v * v
                            }
                            let offset = sum / Float(groupSize)
                            let mu = pivot + offset
                            let k = 1 / (max(0, squares / Float(groupSize) - offset * offset) + epsilon).squareRoot()
                            means[n * groups + g] = mu
                            inverses[n * groups + g] = k
                            for c in 0..<perGroup {
                                let channel = g * perGroup + c
                                let a = k * gamma[channel], b = beta[channel] - mu * a
                                let start = base + c * inner
                                if silu {
                                    for i in start..<(start + inner) {
                                        let z = x[i] * a + b
                                        y[i] = z / (1 + Foundation.exp(-z))
                                    }
                                } else {
                                    for i in start..<(start + inner) { y[i] = x[i] * a + b }
                                }
                            }
                        }
                    }
                }
            }
        }
        let statistics = GroupNormStatistics(groups: groups, mean: mean, inverseDeviation: inverse, silu: silu)
        return Tensor(shape: shape, data: out, operation: .groupNorm(self, scale: scale, shift: shift, statistics: statistics))
    }

    static func groupNormBackward(_ input: Tensor, _ scale: Tensor, _ shift: Tensor, _ statistics: GroupNormStatistics,
                                  gradient: [Float]) {
        let (batch, channels, groups) = (input.shape[0], input.shape[1], statistics.groups)
        let inner = input.count / max(batch * channels, 1), perGroup = channels / groups
        let groupSize = Float(perGroup * inner)
        let wantsInput = input.requiresGrad
        var dx = [Float](repeating: 0, count: wantsInput ? input.count : 0)
        // Per (image, channel): Σ dz and Σ dz·x̂, added over the images in order afterwards (the
        // same figures whatever the number of workers).
        var planeSums = [Float](repeating: 0, count: batch * channels * 2)
        let gamma = scale.data, beta = shift.data
        withPointers(input.data, gradient) { xPointer, dyPointer in
            withMutablePointers(&dx, &planeSums) { dxPointer, sumsPointer in
                nonisolated(unsafe) let (x, dy, sums) = (xPointer, dyPointer, sumsPointer)
                nonisolated(unsafe) let dx = wantsInput ? dxPointer : nil  // an empty array's pointer is not to be used
                Self.forEachShare(of: batch, elements: input.count) { images in
                    // dz (the gradient at the normalised, scaled value) for one channel's plane.
                    var dz = [Float](repeating: 0, count: inner)
                    for n in images {
                        for g in 0..<groups {
                            let mu = statistics.mean[n * groups + g], k = statistics.inverseDeviation[n * groups + g]
                            var groupDxHat: Float = 0, groupDxHatXHat: Float = 0
                            for c in 0..<perGroup {
                                let channel = g * perGroup + c
                                let start = (n * channels + channel) * inner
                                var sumDz: Float = 0, sumDzXHat: Float = 0
                                for i in 0..<inner {
                                    let xHat = (x[start + i] - mu) * k
                                    var d = dy[start + i]
                                    if statistics.silu {
                                        let z = xHat * gamma[channel] + beta[channel]
                                        let s = 1 / (1 + Foundation.exp(-z))
                                        d *= s * (1 + z * (1 - s))
                                    }
                                    dz[i] = d
                                    sumDz += d
                                    sumDzXHat += d * xHat
                                }
                                sums[(n * channels + channel) * 2] = sumDz
                                sums[(n * channels + channel) * 2 + 1] = sumDzXHat
                                groupDxHat += gamma[channel] * sumDz
                                groupDxHatXHat += gamma[channel] * sumDzXHat
                                if let dx { for i in 0..<inner { dx[start + i] = gamma[channel] * dz[i] } }
                            }
                            // dx = k·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) over the group, dx̂ = γ·dz.
                            guard let dx else { continue }
                            let (meanDxHat, meanDxHatXHat) = (groupDxHat / groupSize, groupDxHatXHat / groupSize)
                            let start = (n * channels + g * perGroup) * inner
                            for i in start..<(start + perGroup * inner) {
                                let xHat = (x[i] - mu) * k
                                dx[i] = k * (dx[i] - meanDxHat - xHat * meanDxHatXHat)
                            }
                        }
                    }
                }
            }
        }
        var dGamma = [Float](repeating: 0, count: channels), dBeta = dGamma
        for n in 0..<batch {
            for c in 0..<channels {
                dBeta[c] += planeSums[(n * channels + c) * 2]
                dGamma[c] += planeSums[(n * channels + c) * 2 + 1]
            }
        }
        if wantsInput { input.accumulate(dx) }
        scale.accumulate(dGamma)
        shift.accumulate(dBeta)
    }
}

// A value per (image, channel) plane added to every position of it: a convolution's bias ([C])
// or a diffusion U-Net's time projection ([N, C]), without a general broadcast's per-element walk.
extension Tensor {
    /// self (N, C, …) plus `bias`, of shape [C] (every image) or [N, C] (each its own).
    public func addingPlaneBias(_ bias: Tensor) -> Tensor {
        let (batch, channels) = (shape[0], shape[1])
        precondition(bias.shape == [channels] || bias.shape == [batch, channels], "a plane bias of \(bias.shape) for \(shape)")
        let inner = count / max(batch * channels, 1), perImage = bias.rank == 2
        var out = Self.uninitialized(count)
        withPointers(data, bias.data) { x, b in
            withMutablePointers(&out) { y in
                for plane in 0..<(batch * channels) {
                    let value = b[perImage ? plane : plane % channels]
                    for i in (plane * inner)..<((plane + 1) * inner) { y[i] = x[i] + value }
                }
            }
        }
        return Tensor(shape: shape, data: out, operation: .planeBias(self, bias))
    }

    static func planeBiasBackward(_ input: Tensor, _ bias: Tensor, gradient: [Float]) {
        input.accumulate(gradient)
        guard bias.requiresGrad else { return }
        let (batch, channels) = (input.shape[0], input.shape[1])
        let inner = input.count / max(batch * channels, 1), perImage = bias.rank == 2
        var back = [Float](repeating: 0, count: bias.count)
        gradient.withUnsafeBufferPointer { d in
            for plane in 0..<(batch * channels) {
                var total: Float = 0
                for i in (plane * inner)..<((plane + 1) * inner) { total += d[i] }
                back[perImage ? plane : plane % channels] += total
            }
        }
        bias.accumulate(back)
    }
}
