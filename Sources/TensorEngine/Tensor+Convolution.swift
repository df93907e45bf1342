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

    func conv2d(_ weight: Tensor, stride: Int, padding: Int, columnLimit: Int) -> Tensor {
        precondition(weight.rank == 4 && weight.shape[1] == shape[1], "conv2d of \(shape) by \(weight.shape)")
        let geometry = ConvolutionGeometry(input: shape, kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
                                           stride: stride, padding: padding, columnLimit: columnLimit)
        let outputs = weight.shape[0], pixels = geometry.outputPixels
        let plane = geometry.channels * geometry.height * geometry.width
        let chunk = geometry.imagesPerChunk
        // Every element of these is written before it is read (im2col writes the padding's zeros).
        var out = Self.uninitialized(geometry.batch * outputs * pixels)
        var columns = Self.uninitialized(geometry.patchSize * chunk * pixels)
        var product = Self.uninitialized(outputs * chunk * pixels)
        data.withUnsafeBufferPointer { input in
            weight.data.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    columns.withUnsafeMutableBufferPointer { cols in
                        product.withUnsafeMutableBufferPointer { y in
                            for first in Swift.stride(from: 0, to: geometry.batch, by: chunk) {
                                let count = min(chunk, geometry.batch - first), width = count * pixels
                                for j in 0..<count {
                                    geometry.im2col(input.baseAddress! + (first + j) * plane,
                                                    into: cols.baseAddress! + j * pixels, leadingDimension: width)
                                }
                                BLAS.sgemm(.none, .none, m: outputs, n: width, k: geometry.patchSize,
                                           a: w.baseAddress!, b: cols.baseAddress!, c: y.baseAddress!)
                                // (outputs × images·pixels) → images × outputs × pixels
                                for j in 0..<count {
                                    for channel in 0..<outputs {
                                        (o.baseAddress! + ((first + j) * outputs + channel) * pixels)
                                            .update(from: y.baseAddress! + channel * width + j * pixels, count: pixels)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [geometry.batch, outputs, geometry.outputHeight, geometry.outputWidth], data: out,
                      operation: .conv2d(self, weight, geometry: geometry))
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
