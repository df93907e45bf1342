import Foundation

// Forward rules of the 2-D window operations, NCHW.
extension Tensor {
    /// Convolution of an NCHW batch by an OIHW weight, through im2col and one sgemm per image.
    public func conv2d(_ weight: Tensor, stride: Int = 1, padding: Int = 0) -> Tensor {
        precondition(weight.rank == 4 && weight.shape[1] == shape[1], "conv2d of \(shape) by \(weight.shape)")
        let geometry = ConvolutionGeometry(input: shape, kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
                                           stride: stride, padding: padding)
        let outputs = weight.shape[0]
        var out = [Float](repeating: 0, count: geometry.batch * outputs * geometry.outputPixels)
        var columns = [Float](repeating: 0, count: geometry.patchSize * geometry.outputPixels)
        data.withUnsafeBufferPointer { input in
            weight.data.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    columns.withUnsafeMutableBufferPointer { cols in
                        for n in 0..<geometry.batch {
                            geometry.im2col(input.baseAddress! + n * geometry.channels * geometry.height * geometry.width,
                                            into: cols.baseAddress!)
                            BLAS.sgemm(.none, .none, m: outputs, n: geometry.outputPixels, k: geometry.patchSize,
                                       a: w.baseAddress!, b: cols.baseAddress!,
                                       c: o.baseAddress! + n * outputs * geometry.outputPixels)
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
