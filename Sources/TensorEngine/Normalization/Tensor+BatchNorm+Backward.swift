// The gradient of the fused batch norm (`Tensor+Normalization.swift` is its forward rule).
extension Tensor {
    /// z = x̂·γ + β (+ r) with x̂ = (x − μ)·k, and y = z or ReLU(z): dz = dy where y > 0 (all of dy
    /// without ReLU), dr = dz, dγ = Σ dz·x̂, dβ = Σ dz, and with batch statistics
    /// dx = k/M · (M·dx̂ − Σ dx̂ − x̂·Σ dx̂·x̂) where dx̂ = dz·γ and M values share a channel;
    /// with running statistics, dx = dx̂·k. Two passes per channel: the sums (writing dz when it
    /// is needed apart), then dx = a·dz + b·x + c, x̂ recomputed from x on the way.
    static func batchNormBackward(_ input: Tensor, _ scale: Tensor, _ shift: Tensor, _ residual: Tensor?,
                                  _ statistics: BatchNormStatistics, output: [Float], gradient: [Float]) {
        let (batch, channels) = (input.shape[0], input.shape[1])
        let inner = input.count / (batch * channels)
        let perChannel = Float(batch * inner)
        let wantsInput = input.requiresGrad
        let wantsResidual = residual?.requiresGrad == true
        // Every element of dx (and of dz, where it has its own array) is written before it is read.
        var dx = Self.uninitialized(wantsInput ? input.count : 0)
        // Under a ReLU, dz is made in dx's memory and turned into dx in place, unless the residual
        // wants it as its gradient: then it has its own. Without a ReLU, dz is dy.
        let dzHasOwnArray = statistics.relu && wantsResidual
        var dzOwn = Self.uninitialized(dzHasOwnArray ? input.count : 0)
        var sumDz = [Float](repeating: 0, count: channels), sumDzXHat = sumDz
        withPointers(gradient, output, input.data) { dyPointer, yPointer, xPointer in
            withMutablePointers(&dx, &dzOwn) { dxPointer, dzOwnPointer in
                nonisolated(unsafe) let (dy, x) = (dyPointer, xPointer)
                // An empty array lends a pointer that must not be used: the flags decide which are.
                nonisolated(unsafe) let y = statistics.relu ? yPointer : nil
                nonisolated(unsafe) let dx = wantsInput ? dxPointer : nil
                nonisolated(unsafe) let written = !statistics.relu ? nil : dzHasOwnArray ? dzOwnPointer : dx
                let (mean, k) = (statistics.mean, statistics.inverseDeviation)
                // Pass 1: dz (masked by the ReLU), with Σ dz and Σ dz·(x − μ) per channel.
                let planes = planeSums(batch: batch, channels: channels, elements: input.count) { n, c in
                    let base = (n * channels + c) * inner
                    return VectorKernels.gradientSums(dy + base, output: y.map { $0 + base }, input: x + base, mean: mean[c],
                                                      dz: written.map { $0 + base }, count: inner)
                }
                for c in 0..<channels {
                    sumDz[c] = planes[c].0
                    sumDzXHat[c] = planes[c].1 * k[c]
                }
                guard let dx else { return }
                // dx = γk·dz − γk·mean(dz) − γk·x̂·mean(dz·x̂), x̂ = (x − μ)·k,
                //    = γk·dz − γk·mean(dz) − γk³·(x − μ)·mean(dz·(x − μ)) = a·dz + b·x + c
                let used = statistics.usedBatchStatistics
                let coefficients = (0..<channels).map { c -> (a: Float, b: Float, c: Float) in
                    let (total, centred) = planes[c]
                    let gk = scale.data[c] * k[c]
                    let (meanDz, meanDzCentred) = used ? (total / perChannel, centred / perChannel) : (0, 0)
                    let slope = -gk * k[c] * k[c] * meanDzCentred
                    return (gk, slope, -gk * meanDz - slope * mean[c])
                }
                // Pass 2: dx, image by image.
                nonisolated(unsafe) let (target, dz) = (dx, UnsafePointer(written) ?? dy)
                forEachPlane(batch: batch, channels: channels, elements: input.count) { n, c in
                    let base = (n * channels + c) * inner
                    let (a, b, constant) = coefficients[c]
                    VectorKernels.inputGradient(dz + base, input: x + base, a: a, b: b, c: constant, into: target + base, count: inner)
                }
            }
        }
        if wantsResidual { residual!.accumulate(statistics.relu ? dzOwn : gradient) }
        shift.accumulate(sumDz)
        scale.accumulate(sumDzXHat)
        input.accumulate(dx)
    }
}
