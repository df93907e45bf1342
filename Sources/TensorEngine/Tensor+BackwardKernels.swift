import Dispatch

// The gradient rules too long to sit in `propagate`'s switch: matmul, conv2d and batch norm.
extension Tensor {
    /// Y = W·cols(X), chunk by chunk as the forward pass: dW = Σ dY·colsᵀ; dX is the convolution
    /// of dY by the flipped, transposed kernel where the geometry has one (stride 1) — image by
    /// image in the same pass when images are large, else a second pass — and col2im(Wᵀ·dY)
    /// otherwise.
    static func conv2dBackward(_ input: Tensor, _ weight: Tensor, _ geometry: ConvolutionGeometry, _ output: [Float]) {
        let outputs = weight.shape[0]
        let (patch, pixels) = (geometry.patchSize, geometry.outputPixels)
        let plane = geometry.channels * geometry.height * geometry.width
        let chunks = geometry.chunkCount(workers: BLAS.workers)
        let perImage = geometry.multipliesPerImage
        let columns = perImage ? pixels : geometry.imagesPerChunk * pixels
        let gradientConvolution = geometry.inputGradientAsConvolution(outputs: outputs)
        // As in the forward: each worker takes every workers-th chunk with buffers of its own
        // (im2col, the gradient's re-layout and col2im run on every core, not only the products),
        // writes its chunks' images of dInput, and sums its own dWeight, added up at the end.
        let workers = min(BLAS.workers, chunks)
        let wantsWeight = weight.requiresGrad
        let wantsInput = input.requiresGrad, scattersInput = input.requiresGrad && gradientConvolution == nil
        // With large images on both sides, each image's input gradient is made right after its
        // weight gradient, while its dY is still in cache, in the same pass over the batch.
        let convolvesInputPerImage = wantsInput && perImage && gradientConvolution?.multipliesPerImage == true
        let flipped = wantsInput && gradientConvolution != nil ? flippedTransposedKernel(weight) : []
        let scratch = max(patch * columns, gradientConvolution.map { $0.patchSize * $0.outputPixels } ?? 0)
        // col2im adds into dInput, whose images each worker zeroes first; the convolution writes every element.
        var dInput = Self.uninitialized(wantsInput ? input.count : 0)
        var dWeights = [Float](repeating: 0, count: wantsWeight ? workers * weight.count : 0)
        output.withUnsafeBufferPointer { gradient in
            input.data.withUnsafeBufferPointer { x in
                weight.data.withUnsafeBufferPointer { w in
                    dInput.withUnsafeMutableBufferPointer { dx in
                      dWeights.withUnsafeMutableBufferPointer { dw in
                        flipped.withUnsafeBufferPointer { flippedBuffer in
                            nonisolated(unsafe) let (gradient, x, w) = (gradient.baseAddress!, x.baseAddress!, w.baseAddress!)
                            nonisolated(unsafe) let (dx, dw) = (dx.baseAddress, dw.baseAddress)
                            nonisolated(unsafe) let flippedKernel = flippedBuffer.baseAddress
                            let weightCount = weight.count
                            // One image's (or chunk's) dY, (outputs × width): dW += dY·colsᵀ, dX += col2im(Wᵀ·dY).
                            @Sendable func accumulate(_ dy: UnsafePointer<Float>, images: Range<Int>, cols: UnsafeMutablePointer<Float>,
                                            worker: Int) {
                                let width = images.count * pixels
                                if wantsWeight {
                                    for (j, image) in images.enumerated() {
                                        geometry.im2col(x + image * plane, into: cols + j * pixels, leadingDimension: width)
                                    }
                                    BLAS.sgemm(.none, .transposed, m: outputs, n: patch, k: width, a: dy, b: cols, beta: 1,
                                               c: dw! + worker * weightCount, parallel: workers == 1)
                                }
                                if scattersInput {
                                    BLAS.sgemm(.transposed, .none, m: patch, n: width, k: outputs, a: w, b: dy, c: cols,
                                               parallel: workers == 1)
                                    for (j, image) in images.enumerated() {
                                        (dx! + image * plane).initialize(repeating: 0, count: plane)
                                        geometry.col2im(cols + j * pixels, leadingDimension: width, into: dx! + image * plane)
                                    }
                                }
                            }
                            let work: @Sendable (Int) -> Void = { worker in
                                guard wantsWeight || scattersInput || convolvesInputPerImage else { return }
                                ScratchMemory.with(.columns, count: scratch) { cols in
                                    for index in Swift.stride(from: worker, to: chunks, by: workers) {
                                        let images = geometry.images(ofChunk: index, of: chunks)
                                        if perImage {
                                            // Each image's dY is already (outputs × pixels).
                                            for image in images {
                                                let dy = gradient + image * outputs * pixels
                                                accumulate(dy, images: image..<(image + 1), cols: cols, worker: worker)
                                                guard convolvesInputPerImage, let convolution = gradientConvolution else { continue }
                                                convolution.im2col(dy, into: cols, leadingDimension: convolution.outputPixels)
                                                BLAS.sgemm(.none, .none, m: geometry.channels, n: convolution.outputPixels,
                                                           k: convolution.patchSize, a: flippedKernel!, b: cols, c: dx! + image * plane,
                                                           parallel: workers == 1)
                                            }
                                            continue
                                        }
                                        ScratchMemory.with(.product, count: outputs * columns) { dy in
                                            // images × outputs × pixels → (outputs × images·pixels), as the forward's product
                                            let width = images.count * pixels
                                            for (j, image) in images.enumerated() {
                                                for channel in 0..<outputs {
                                                    (dy + channel * width + j * pixels)
                                                        .update(from: gradient + (image * outputs + channel) * pixels, count: pixels)
                                                }
                                            }
                                            accumulate(dy, images: images, cols: cols, worker: worker)
                                        }
                                    }
                                }
                            }
                            if workers > 1 { DispatchQueue.concurrentPerform(iterations: workers, execute: work) } else { work(0) }
                            if wantsInput && !convolvesInputPerImage, let gradientConvolution {
                                convolve(gradientConvolution, outputs: geometry.channels, input: gradient, weight: flippedKernel!,
                                         epilogue: nil, residual: nil, into: dx!)
                            }
                        }
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

    /// W′[c, o, ky, kx] = W[o, c, k−1−ky, k−1−kx]: the kernel that carries an output gradient back
    /// to the input of a stride-1 convolution.
    static func flippedTransposedKernel(_ weight: Tensor) -> [Float] {
        let (outputs, channels, size) = (weight.shape[0], weight.shape[1], weight.shape[2])
        let area = size * size
        var flipped = Self.uninitialized(weight.count)
        for o in 0..<outputs {
            for c in 0..<channels {
                for i in 0..<area { flipped[(c * outputs + o) * area + i] = weight.data[(o * channels + c) * area + area - 1 - i] }
            }
        }
        return flipped
    }

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
        gradient.withUnsafeBufferPointer { dyBuffer in
          output.withUnsafeBufferPointer { yBuffer in
            input.data.withUnsafeBufferPointer { xBuffer in
                dx.withUnsafeMutableBufferPointer { dxBuffer in
                    dzOwn.withUnsafeMutableBufferPointer { dzOwnBuffer in
                        nonisolated(unsafe) let (dy, x) = (dyBuffer.baseAddress!, xBuffer.baseAddress!)
                        nonisolated(unsafe) let y = statistics.relu ? yBuffer.baseAddress : nil
                        // (An empty array may still lend a non-nil base address: the flags decide.)
                        nonisolated(unsafe) let dx = wantsInput ? dxBuffer.baseAddress : nil
                        nonisolated(unsafe) let written = !statistics.relu ? nil : dzHasOwnArray ? dzOwnBuffer.baseAddress : dx
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
            }
          }
        }
        if wantsResidual { residual!.accumulate(statistics.relu ? dzOwn : gradient) }
        shift.accumulate(sumDz)
        scale.accumulate(sumDzXHat)
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
