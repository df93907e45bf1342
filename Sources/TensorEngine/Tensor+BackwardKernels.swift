import Dispatch

// The gradient rules too long to sit in `propagate`'s switch: matmul, conv2d and batch norm.
extension Tensor {
    /// Y = W·cols(X), chunk by chunk as the forward pass: dW = Σ dY·colsᵀ, dX = col2im(Wᵀ·dY).
    static func conv2dBackward(_ input: Tensor, _ weight: Tensor, _ geometry: ConvolutionGeometry, _ output: [Float]) {
        let outputs = weight.shape[0]
        let (patch, pixels, chunk) = (geometry.patchSize, geometry.outputPixels, geometry.imagesPerChunk)
        let plane = geometry.channels * geometry.height * geometry.width
        let chunks = (geometry.batch + chunk - 1) / chunk
        // As in the forward: each worker takes every workers-th chunk with buffers of its own
        // (im2col, the gradient's re-layout and col2im run on every core, not only the products),
        // writes its chunks' images of dInput, and sums its own dWeight, added up at the end.
        let workers = min(BLAS.workers, chunks)
        let (wantsInput, wantsWeight) = (input.requiresGrad, weight.requiresGrad)
        var dInput = [Float](repeating: 0, count: wantsInput ? input.count : 0)
        var dWeights = [Float](repeating: 0, count: wantsWeight ? workers * weight.count : 0)
        output.withUnsafeBufferPointer { gradient in
            input.data.withUnsafeBufferPointer { x in
                weight.data.withUnsafeBufferPointer { w in
                    dInput.withUnsafeMutableBufferPointer { dx in
                        dWeights.withUnsafeMutableBufferPointer { dw in
                            nonisolated(unsafe) let (gradient, x, w) = (gradient.baseAddress!, x.baseAddress!, w.baseAddress!)
                            nonisolated(unsafe) let (dx, dw) = (dx.baseAddress, dw.baseAddress)
                            let weightCount = weight.count
                            let work: @Sendable (Int) -> Void = { worker in
                                ScratchMemory.with(.columns, count: patch * chunk * pixels) { cols in
                                    ScratchMemory.with(.product, count: outputs * chunk * pixels) { dy in
                                        for index in Swift.stride(from: worker, to: chunks, by: workers) {
                                            let first = index * chunk
                                            let count = min(chunk, geometry.batch - first), width = count * pixels
                                            // images × outputs × pixels → (outputs × images·pixels), as the forward's product
                                            for j in 0..<count {
                                                for channel in 0..<outputs {
                                                    (dy + channel * width + j * pixels)
                                                        .update(from: gradient + ((first + j) * outputs + channel) * pixels, count: pixels)
                                                }
                                            }
                                            if wantsWeight {
                                                for j in 0..<count {
                                                    geometry.im2col(x + (first + j) * plane, into: cols + j * pixels, leadingDimension: width)
                                                }
                                                BLAS.sgemm(.none, .transposed, m: outputs, n: patch, k: width, a: dy, b: cols, beta: 1,
                                                           c: dw! + worker * weightCount, parallel: workers == 1)
                                            }
                                            if wantsInput {
                                                BLAS.sgemm(.transposed, .none, m: patch, n: width, k: outputs, a: w, b: dy, c: cols,
                                                           parallel: workers == 1)
                                                for j in 0..<count {
                                                    geometry.col2im(cols + j * pixels, leadingDimension: width, into: dx! + (first + j) * plane)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            if workers > 1 { DispatchQueue.concurrentPerform(iterations: workers, execute: work) } else { work(0) }
                        }
                    }
                }
            }
        }
        input.accumulate(dInput)
        if wantsWeight {
            var dWeight = Array(dWeights[0..<weight.count])
            for worker in 1..<max(workers, 1) {
                for i in 0..<weight.count { dWeight[i] += dWeights[worker * weight.count + i] }
            }
            weight.accumulate(dWeight)
        }
    }

    /// y = x̂·γ + β with x̂ = (x − μ)·k: dγ = Σ dy·x̂, dβ = Σ dy, and with batch statistics
    /// dx = k/M · (M·dx̂ − Σ dx̂ − x̂·Σ dx̂·x̂) where dx̂ = dy·γ and M values share a channel;
    /// with running statistics, dx = dx̂·k.
    static func batchNormBackward(_ input: Tensor, _ scale: Tensor, _ shift: Tensor,
                                          _ statistics: BatchNormStatistics, _ output: [Float]) {
        let (batch, channels) = (input.shape[0], input.shape[1])
        let inner = input.count / (batch * channels)
        let perChannel = Float(batch * inner)
        let wantsInput = input.requiresGrad
        var sumDy = [Float](repeating: 0, count: channels), sumDyXHat = [Float](repeating: 0, count: channels)
        var dx = [Float](repeating: 0, count: wantsInput ? input.count : 0)
        output.withUnsafeBufferPointer { dyBuffer in
            statistics.normalised.withUnsafeBufferPointer { xHatBuffer in
                sumDy.withUnsafeMutableBufferPointer { sumDyBuffer in
                    sumDyXHat.withUnsafeMutableBufferPointer { sumDyXHatBuffer in
                        dx.withUnsafeMutableBufferPointer { dxBuffer in
                            nonisolated(unsafe) let (dy, xHat) = (dyBuffer.baseAddress!, xHatBuffer.baseAddress!)
                            nonisolated(unsafe) let (sumDy, sumDyXHat, dx) = (sumDyBuffer.baseAddress!, sumDyXHatBuffer.baseAddress!,
                                                                              dxBuffer.baseAddress)
                            nonisolated(unsafe) let (gamma, inverseDeviation) = (scale.data, statistics.inverseDeviation)
                            let usedBatchStatistics = statistics.usedBatchStatistics
                            // Channels are independent: each worker takes a range of them, over every image.
                            forEachChannelRange(channels, elements: input.count) { range in
                                for c in range {
                                    var a: Float = 0, b: Float = 0
                                    for n in 0..<batch {
                                        let base = (n * channels + c) * inner
                                        var planeA: Float = 0, planeB: Float = 0
                                        for i in 0..<inner { planeA += dy[base + i]; planeB += dy[base + i] * xHat[base + i] }
                                        a += planeA
                                        b += planeB
                                    }
                                    sumDy[c] = a
                                    sumDyXHat[c] = b
                                    guard let dx else { continue }
                                    let (g, k) = (gamma[c], inverseDeviation[c])
                                    // Σ dx̂ = γ·Σ dy and Σ dx̂·x̂ = γ·Σ dy·x̂.
                                    let (meanDy, meanDyXHat) = usedBatchStatistics ? (a / perChannel, b / perChannel) : (0, 0)
                                    for n in 0..<batch {
                                        let base = (n * channels + c) * inner
                                        for i in 0..<inner { dx[base + i] = g * k * (dy[base + i] - meanDy - xHat[base + i] * meanDyXHat) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        shift.accumulate(sumDy)
        scale.accumulate(sumDyXHat)
        input.accumulate(dx)
    }

    /// C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC (summed over the batch when B is shared).
    static func matmulBackward(_ a: Tensor, _ b: Tensor, _ output: [Float]) {
        let (m, k, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1], b.shape[b.rank - 1])
        let batch = a.shape.dropLast(2).reduce(1, *)
        let sharedRight = b.rank == 2
        var da = [Float](repeating: 0, count: a.count)
        var db = [Float](repeating: 0, count: b.count)
        output.withUnsafeBufferPointer { dc in
            a.data.withUnsafeBufferPointer { av in
                b.data.withUnsafeBufferPointer { bv in
                    for i in 0..<batch {
                        let dcI = dc.baseAddress! + i * m * n
                        let bI = bv.baseAddress! + (sharedRight ? 0 : i * k * n)
                        if a.requiresGrad {
                            da.withUnsafeMutableBufferPointer {
                                BLAS.sgemm(.none, .transposed, m: m, n: k, k: n, a: dcI, b: bI, c: $0.baseAddress! + i * m * k)
                            }
                        }
                        if b.requiresGrad {
                            db.withUnsafeMutableBufferPointer {
                                BLAS.sgemm(.transposed, .none, m: k, n: n, k: m, a: av.baseAddress! + i * m * k, b: dcI,
                                           beta: sharedRight ? 1 : 0, c: $0.baseAddress! + (sharedRight ? 0 : i * k * n))
                            }
                        }
                    }
                }
            }
        }
        a.accumulate(da)
        b.accumulate(db)
    }
}
