import Dispatch
import Foundation

// The forward rule of conv2d, NCHW (its gradient: `Tensor+Convolution+Backward.swift`).
extension Tensor {
    /// Floats of im2col buffer a convolution may use (16 MB).
    static let columnBufferLimit = 4 << 20

    /// Convolution of an NCHW batch by an OIHW weight: im2col over a chunk of images, one sgemm
    /// per chunk, then the chunk's output laid back out image by image.
    public func conv2d(_ weight: Tensor, stride: Int = 1, padding: Int = 0) -> Tensor {
        conv2d(weight, stride: stride, padding: padding, columnLimit: Self.columnBufferLimit)
    }

    /// Convolution and what follows it in a network, in one pass over the output: for inference,
    /// where a batch norm's affine is folded in and nothing wants a gradient (none is recorded).
    public func conv2d(_ weight: Tensor, stride: Int = 1, padding: Int = 0, epilogue: ConvolutionEpilogue) -> Tensor {
        precondition(!requiresGrad && !weight.requiresGrad && epilogue.residual?.requiresGrad != true,
                     "a fused convolution records no gradient")
        return conv2d(weight, stride: stride, padding: padding, columnLimit: Self.columnBufferLimit, epilogue: epilogue)
    }

    func conv2d(_ weight: Tensor, stride: Int, padding: Int, columnLimit: Int, epilogue: ConvolutionEpilogue? = nil) -> Tensor {
        precondition(weight.rank == 4 && weight.shape[1] == shape[1], "conv2d of \(shape) by \(weight.shape)")
        let geometry = ConvolutionGeometry(input: shape, kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
                                           stride: stride, padding: padding, columnLimit: columnLimit)
        let outputs = weight.shape[0]
        // Every element is written before it is read (im2col writes the padding's zeros).
        var out = Self.uninitialized(geometry.batch * outputs * geometry.outputPixels)
        let residualData = epilogue?.residual?.data ?? []
        withPointers(data, weight.data, residualData) { input, w, r in
            withMutablePointers(&out) { o in
                // An empty array's pointer is not to be used: only a residual's counts.
                Self.convolve(geometry, outputs: outputs, input: input, weight: w, epilogue: epilogue,
                              residual: epilogue?.residual == nil ? nil : r, into: o)
            }
        }
        return Tensor(shape: [geometry.batch, outputs, geometry.outputHeight, geometry.outputWidth], data: out,
                      operation: .conv2d(self, weight, geometry: geometry))
    }

    /// The convolution itself, from and into memory the caller owns: `conv2d` and the
    /// allocation-free inference plans share it. Warmed up (each thread's scratch buffers big
    /// enough), it allocates nothing on one worker.
    ///
    /// Several chunks: each worker takes every workers-th chunk, with buffers of its own, and does
    /// its im2col, product and copy (or epilogue) alone. One chunk: the product is cut instead.
    /// Large images are multiplied one at a time straight into the output, and so are small ones
    /// where a direct 3×3 kernel applies; other small ones a chunk at a time, in one wide product
    /// whose result is then laid out image by image.
    /// `packedWeight`: the same weight packed once by a caller whose weights never change, which
    /// the channel-lane kernel then reads instead of packing them at every call.
    public static func convolve(_ geometry: ConvolutionGeometry, outputs: Int, input: UnsafePointer<Float>,
                                weight: UnsafePointer<Float>, packedWeight: PackedConvolutionWeights? = nil, epilogue: ConvolutionEpilogue?,
                                residual: UnsafePointer<Float>?, into output: UnsafeMutablePointer<Float>) {
        let pixels = geometry.outputPixels, patch = geometry.patchSize
        let plane = geometry.channels * geometry.height * geometry.width
        let chunks = geometry.chunkCount(workers: EngineWorkers.count)
        let workers = min(EngineWorkers.count, chunks)
        // A 3×3 padding-1 convolution needs no columns at all (`DirectConvolution`), one image at
        // a time: output channels in the vector lanes for small maps and for 32 channels or more,
        // pixels in the lanes for fewer channels of large maps. (One image on one core, 28²:
        // 16→32 at stride 2 159 against 122 GFLOPS, 32→32 at 14² 184 against 155, but 16→16
        // 106 against 202; at 7², 187 against 77.)
        let inChannelLanes = DirectConvolution.runsInChannelLanes(geometry, outputs: outputs)
        let direct = !inChannelLanes && geometry.multipliesPerImage && DirectConvolution.applies(to: geometry, outputs: outputs)
        let perImage = geometry.multipliesPerImage || inChannelLanes
        let columns = direct || inChannelLanes ? 0 : perImage ? pixels : geometry.imagesPerChunk * pixels
        if let epilogue {
            precondition(epilogue.scale.count == outputs && epilogue.shift.count == outputs, "one scale and shift per output channel")
        }
        // Workers read the inputs and the epilogue's factors, and write disjoint images.
        nonisolated(unsafe) let (input, weight, output, residual) = (input, weight, output, residual)
        @Sendable func finish(_ source: UnsafePointer<Float>, image: Int, channel: Int, epilogue: ConvolutionEpilogue.Factors?) {
            let offset = (image * outputs + channel) * pixels
            if let epilogue {
                epilogue.apply(source, channel: channel, residual: residual.map { $0 + offset }, into: output + offset, count: pixels)
            } else if source != output + offset {
                (output + offset).update(from: source, count: pixels)
            }
        }
        /// `packed`: the channel-lane kernel's weights, packed once for the batch before the workers
        /// start (`inChannelLanes`); it and the epilogue's factors are parameters, since captured
        /// variables would be allocated per call.
        @Sendable func work(_ worker: Int, packed: UnsafePointer<Float>?, epilogue: ConvolutionEpilogue.Factors?) {
            ScratchMemory.with(.columns, count: patch * columns) { cols in
                for index in Swift.stride(from: worker, to: chunks, by: workers) {
                    let images = geometry.images(ofChunk: index, of: chunks)
                    if perImage {
                        for image in images {
                            let target = output + image * outputs * pixels
                            if direct {
                                DirectConvolution.convolve(input + image * plane, geometry, weight: weight, outputs: outputs,
                                                           into: target, parallel: workers == 1)
                            } else if let packed {
                                DirectConvolution.convolveInChannelLanes(input + image * plane, geometry, packedWeight: packed,
                                                                         outputs: outputs, into: target, parallel: workers == 1)
                            } else {
                                geometry.im2col(input + image * plane, into: cols, leadingDimension: pixels)
                                BLAS.sgemm(.none, .none, m: outputs, n: pixels, k: patch, a: weight, b: cols, c: target,
                                           parallel: workers == 1)
                            }
                            if epilogue != nil {
                                for channel in 0..<outputs { finish(target + channel * pixels, image: image, channel: channel, epilogue: epilogue) }
                            }
                        }
                        continue
                    }
                    let width = images.count * pixels
                    for (j, image) in images.enumerated() {
                        geometry.im2col(input + image * plane, into: cols + j * pixels, leadingDimension: width)
                    }
                    ScratchMemory.with(.product, count: outputs * columns) { y in
                        BLAS.sgemm(.none, .none, m: outputs, n: width, k: patch, a: weight, b: cols, c: y, parallel: workers == 1)
                        // (outputs × images·pixels) → images × outputs × pixels
                        for (j, image) in images.enumerated() {
                            for channel in 0..<outputs {
                                finish(y + channel * width + j * pixels, image: image, channel: channel, epilogue: epilogue)
                            }
                        }
                    }
                }
            }
        }
        @Sendable func run(packed: UnsafePointer<Float>?, epilogue: ConvolutionEpilogue.Factors?) {
            nonisolated(unsafe) let packed = packed  // read by every worker, written by none
            if workers > 1 {
                DispatchQueue.concurrentPerform(iterations: workers) { work($0, packed: packed, epilogue: epilogue) }
            } else {
                work(0, packed: packed, epilogue: epilogue)
            }
        }
        func run(packed: UnsafePointer<Float>?) {
            if let epilogue { epilogue.withFactors { run(packed: packed, epilogue: $0) } } else { run(packed: packed, epilogue: nil) }
        }
        if inChannelLanes, let packedWeight {
            packedWeight.values.withUnsafeBufferPointer { run(packed: $0.baseAddress!) }
        } else if inChannelLanes {
            DirectConvolution.withChannelLaneWeights(weight, geometry, outputs: outputs) { run(packed: $0) }
        } else {
            run(packed: nil)
        }
    }
}
