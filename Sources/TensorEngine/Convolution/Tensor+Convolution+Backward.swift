import Dispatch

// The gradient of conv2d (`Tensor+Convolution.swift` is its forward rule).
extension Tensor {
    /// Y = W·cols(X), chunk by chunk as the forward pass: dW = Σ dY·colsᵀ; dX is the convolution
    /// of dY by the flipped, transposed kernel where the geometry has one (stride 1) — image by
    /// image in the same pass when images are large, else a second pass — and col2im(Wᵀ·dY)
    /// otherwise.
    static func conv2dBackward(_ input: Tensor, _ weight: Tensor, _ geometry: ConvolutionGeometry, _ output: [Float]) {
        let outputs = weight.shape[0]
        let (patch, pixels) = (geometry.patchSize, geometry.outputPixels)
        let plane = geometry.channels * geometry.height * geometry.width
        let chunks = geometry.chunkCount(workers: EngineWorkers.count)
        let perImage = geometry.multipliesPerImage
        let columns = perImage ? pixels : geometry.imagesPerChunk * pixels
        let gradientConvolution = geometry.inputGradientAsConvolution(outputs: outputs)
        // As in the forward: each worker takes every workers-th chunk with buffers of its own
        // (im2col, the gradient's re-layout and col2im run on every core, not only the products),
        // writes its chunks' images of dInput, and sums its own dWeight, added up at the end.
        let workers = min(EngineWorkers.count, chunks)
        let wantsWeight = weight.requiresGrad
        let wantsInput = input.requiresGrad, scattersInput = input.requiresGrad && gradientConvolution == nil
        // With large images on both sides, each image's input gradient is made right after its
        // weight gradient, while its dY is still in cache, in the same pass over the batch.
        let convolvesInputPerImage = wantsInput && perImage && gradientConvolution?.multipliesPerImage == true
        // Large images of a stride-1 3×3 padding-1 convolution: the weight gradient without im2col (`DirectConvolution`).
        let directWeightGradient = wantsWeight && perImage && DirectConvolution.appliesToWeightGradient(of: geometry, outputs: outputs)
        let flipped = wantsInput && gradientConvolution != nil ? flippedTransposedKernel(weight) : []
        let scratch = max(patch * columns, gradientConvolution.map { $0.patchSize * $0.outputPixels } ?? 0)
        // col2im adds into dInput, whose images each worker zeroes first; the convolution writes every element.
        var dInput = Self.uninitialized(wantsInput ? input.count : 0)
        var dWeights = [Float](repeating: 0, count: wantsWeight ? workers * weight.count : 0)
        withPointers(output, input.data, weight.data, flipped) { gradient, x, w, flippedKernel in
            withMutablePointers(&dInput, &dWeights) { dx, dw in
                // Handed to the workers, which finish before these closures return.
                nonisolated(unsafe) let (gradient, x, w, flippedKernel, dx, dw) = (gradient, x, w, flippedKernel, dx, dw)
                let weightCount = weight.count
                // One image's (or chunk's) dY, (outputs × width): dW += dY·colsᵀ, dX += col2im(Wᵀ·dY).
                @Sendable func accumulate(_ dy: UnsafePointer<Float>, images: Range<Int>, cols: UnsafeMutablePointer<Float>,
                                worker: Int) {
                    let width = images.count * pixels
                    if directWeightGradient {
                        // One image (large images go one by one): its sums straight from dY and the input.
                        DirectConvolution.accumulateWeightGradient(x + images.lowerBound * plane, geometry, outputGradient: dy,
                                                                   outputs: outputs, into: dw + worker * weightCount,
                                                                   parallel: workers == 1)
                    } else if wantsWeight {
                        for (j, image) in images.enumerated() {
                            geometry.im2col(x + image * plane, into: cols + j * pixels, leadingDimension: width)
                        }
                        BLAS.sgemm(.none, .transposed, m: outputs, n: patch, k: width, a: dy, b: cols, beta: 1,
                                   c: dw + worker * weightCount, parallel: workers == 1)
                    }
                    if scattersInput {
                        BLAS.sgemm(.transposed, .none, m: patch, n: width, k: outputs, a: w, b: dy, c: cols,
                                   parallel: workers == 1)
                        for (j, image) in images.enumerated() {
                            (dx + image * plane).initialize(repeating: 0, count: plane)
                            geometry.col2im(cols + j * pixels, leadingDimension: width, into: dx + image * plane)
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
                                    if DirectConvolution.applies(to: convolution, outputs: geometry.channels) {
                                        DirectConvolution.convolve(dy, convolution, weight: flippedKernel, outputs: geometry.channels,
                                                                   into: dx + image * plane, parallel: workers == 1)
                                        continue
                                    }
                                    convolution.im2col(dy, into: cols, leadingDimension: convolution.outputPixels)
                                    BLAS.sgemm(.none, .none, m: geometry.channels, n: convolution.outputPixels,
                                               k: convolution.patchSize, a: flippedKernel, b: cols, c: dx + image * plane,
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
                    convolve(gradientConvolution, outputs: geometry.channels, input: gradient, weight: flippedKernel,
                             epilogue: nil, residual: nil, into: dx)
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
}
