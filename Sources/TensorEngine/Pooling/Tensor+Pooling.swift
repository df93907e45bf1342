// Pooling and upsampling of NCHW batches: each forward rule, then the gradients.
extension Tensor {
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

    static func maxPoolBackward(_ a: Tensor, sources: [Int], _ output: [Float]) {
        var back = [Float](repeating: 0, count: a.count)
        for (flat, source) in sources.enumerated() { back[source] += output[flat] }
        a.accumulate(back)
    }

    static func averagePoolBackward(_ a: Tensor, _ geometry: ConvolutionGeometry, _ output: [Float]) {
        var back = [Float](repeating: 0, count: a.count)
        let share = 1 / Float(geometry.kernelHeight * geometry.kernelWidth)
        var flat = 0
        geometry.forEachWindow { plane, oy, ox in
            for ky in 0..<geometry.kernelHeight {
                for kx in 0..<geometry.kernelWidth {
                    back[plane + (oy * geometry.stride + ky) * geometry.width + ox * geometry.stride + kx] += output[flat] * share
                }
            }
            flat += 1
        }
        a.accumulate(back)
    }

    static func upsampleBackward(_ a: Tensor, factor: Int, _ output: [Float]) {
        // Each input pixel receives the sum of the gradients of its factor² copies.
        let (planes, height, width) = (a.shape[0] * a.shape[1], a.shape[2], a.shape[3])
        var back = [Float](repeating: 0, count: a.count)
        for plane in 0..<planes {
            for y in 0..<(height * factor) {
                for x in 0..<(width * factor) {
                    back[(plane * height + y / factor) * width + x / factor] += output[(plane * height * factor + y) * width * factor + x]
                }
            }
        }
        a.accumulate(back)
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
