import Dispatch
import Foundation

// Forward rules of the 2-D window operations, NCHW.
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
        data.withUnsafeBufferPointer { input in
            weight.data.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    residualData.withUnsafeBufferPointer { r in
                        // (An empty array may still lend a non-nil base address: only a residual's counts.)
                        Self.convolve(geometry, outputs: outputs, input: input.baseAddress!, weight: w.baseAddress!, epilogue: epilogue,
                                      residual: epilogue?.residual == nil ? nil : r.baseAddress, into: o.baseAddress!)
                    }
                }
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
    /// Large images are multiplied one at a time straight into the output; small ones a chunk at
    /// a time, in one wide product whose result is then laid out image by image.
    public static func convolve(_ geometry: ConvolutionGeometry, outputs: Int, input: UnsafePointer<Float>,
                                weight: UnsafePointer<Float>, epilogue: ConvolutionEpilogue?, residual: UnsafePointer<Float>?,
                                into output: UnsafeMutablePointer<Float>) {
        let pixels = geometry.outputPixels, patch = geometry.patchSize
        let plane = geometry.channels * geometry.height * geometry.width
        let chunks = geometry.chunkCount(workers: BLAS.workers)
        let workers = min(BLAS.workers, chunks)
        let perImage = geometry.multipliesPerImage
        let columns = perImage ? pixels : geometry.imagesPerChunk * pixels
        if let epilogue {
            precondition(epilogue.scale.count == outputs && epilogue.shift.count == outputs, "one scale and shift per output channel")
        }
        // Workers read the inputs and the epilogue, and write disjoint images.
        nonisolated(unsafe) let (input, weight, output, residual) = (input, weight, output, residual)
        nonisolated(unsafe) let epilogue = epilogue
        @Sendable func finish(_ source: UnsafePointer<Float>, image: Int, channel: Int) {
            let offset = (image * outputs + channel) * pixels
            if let epilogue {
                epilogue.apply(source, channel: channel, residual: residual.map { $0 + offset }, into: output + offset, count: pixels)
            } else if source != output + offset {
                (output + offset).update(from: source, count: pixels)
            }
        }
        @Sendable func work(_ worker: Int) {
            ScratchMemory.with(.columns, count: patch * columns) { cols in
                for index in Swift.stride(from: worker, to: chunks, by: workers) {
                    let images = geometry.images(ofChunk: index, of: chunks)
                    if perImage {
                        for image in images {
                            let target = output + image * outputs * pixels
                            geometry.im2col(input + image * plane, into: cols, leadingDimension: pixels)
                            BLAS.sgemm(.none, .none, m: outputs, n: pixels, k: patch, a: weight, b: cols, c: target,
                                       parallel: workers == 1)
                            if epilogue != nil {
                                for channel in 0..<outputs { finish(target + channel * pixels, image: image, channel: channel) }
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
                            for channel in 0..<outputs { finish(y + channel * width + j * pixels, image: image, channel: channel) }
                        }
                    }
                }
            }
        }
        if workers > 1 { DispatchQueue.concurrentPerform(iterations: workers) { work($0) } } else { work(0) }
    }

    public func maxPool2d(kernel: Int, stride: Int? = nil) -> Tensor {
        let geometry = ConvolutionGeometry(input: shape, kernelHeight: kernel, kernelWidth: kernel, stride: stride ?? kernel, padding: 0)
        var out: [Float] = []
        var sources: [Int] = []
        out.reserveCapacity(geometry.batch * geometry.channels * geometry.outputPixels)
        sources.reserveCapacity(out.capacity)
        geometry.forEachWindow { plane, oy, ox in
            var best = -Float.infinity, bestIndex = 0
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let index = plane + (oy * geometry.stride + ky) * geometry.width + ox * geometry.stride + kx
                    if data[index] > best { (best, bestIndex) = (data[index], index) }
                }
            }
            out.append(best)
            sources.append(bestIndex)
        }
        return Tensor(shape: [geometry.batch, geometry.channels, geometry.outputHeight, geometry.outputWidth], data: out,
                      operation: .maxPool2d(self, sources: sources))
    }

    public func averagePool2d(kernel: Int, stride: Int? = nil) -> Tensor {
        let geometry = ConvolutionGeometry(input: shape, kernelHeight: kernel, kernelWidth: kernel, stride: stride ?? kernel, padding: 0)
        var out: [Float] = []
        out.reserveCapacity(geometry.batch * geometry.channels * geometry.outputPixels)
        let area = Float(kernel * kernel)
        geometry.forEachWindow { plane, oy, ox in
            var sum: Float = 0
            for ky in 0..<kernel {
                for kx in 0..<kernel { sum += data[plane + (oy * geometry.stride + ky) * geometry.width + ox * geometry.stride + kx] }
            }
            out.append(sum / area)
        }
        return Tensor(shape: [geometry.batch, geometry.channels, geometry.outputHeight, geometry.outputWidth], data: out,
                      operation: .averagePool2d(self, geometry: geometry))
    }

    /// NCHW → NC(H·factor)(W·factor), each pixel repeated factor×factor times: the upsampling of a
    /// U-Net's decoder (followed by a convolution, it does what a transposed convolution does,
    /// without its checkerboard artefacts).
    public func upsampled2d(factor: Int) -> Tensor {
        precondition(rank == 4 && factor >= 1, "upsampling \(shape) by \(factor)")
        let (planes, height, width) = (shape[0] * shape[1], shape[2], shape[3])
        var out = Tensor.uninitialized(count * factor * factor)
        for plane in 0..<planes {
            for y in 0..<(height * factor) {
                let row = (plane * height + y / factor) * width, outRow = (plane * height * factor + y) * width * factor
                for x in 0..<(width * factor) { out[outRow + x] = data[row + x / factor] }
            }
        }
        return Tensor(shape: [shape[0], shape[1], height * factor, width * factor], data: out, operation: .upsample2d(self, factor: factor))
    }

    /// NCHW → NC: the mean of each channel's plane.
    public func globalAveragePool() -> Tensor {
        precondition(rank == 4, "global average pooling of \(shape)")
        return reshaped([shape[0], shape[1], shape[2] * shape[3]]).mean(axis: 2).reshaped([shape[0], shape[1]])
    }
}

extension ConvolutionGeometry {
    /// Calls `body(planeStart, outputRow, outputColumn)` for every window, in output order.
    func forEachWindow(_ body: (Int, Int, Int) -> Void) {
        for plane in 0..<(batch * channels) {
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth { body(plane * height * width, oy, ox) }
            }
        }
    }
}

/// What a fused inference convolution does to each output value y of channel c, in order:
/// y · scale[c] + shift[c] (a batch norm's affine, folded), + the residual's value, then ReLU.
public struct ConvolutionEpilogue {
    public var scale: [Float]
    public var shift: [Float]
    public var residual: Tensor?
    public var relu: Bool

    public init(scale: [Float], shift: [Float], residual: Tensor? = nil, relu: Bool) {
        self.scale = scale
        self.shift = shift
        self.residual = residual
        self.relu = relu
    }

    func apply(_ source: UnsafePointer<Float>, channel: Int, residual: UnsafePointer<Float>?,
               into target: UnsafeMutablePointer<Float>, count: Int) {
        let (a, b) = (scale[channel], shift[channel])
        switch (residual, relu) {
        case (nil, false): for i in 0..<count { target[i] = source[i] * a + b }
        case (nil, true): for i in 0..<count { target[i] = max(source[i] * a + b, 0) }
        case (let r?, false): for i in 0..<count { target[i] = source[i] * a + b + r[i] }
        case (let r?, true): for i in 0..<count { target[i] = max(source[i] * a + b + r[i], 0) }
        }
    }
}
