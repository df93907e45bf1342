/// The sizes of a 2-D convolution or pooling window over an NCHW batch.
public struct ConvolutionGeometry: Sendable, Equatable {
    public let batch: Int, channels: Int, height: Int, width: Int
    public let kernelHeight: Int, kernelWidth: Int
    public let stride: Int, padding: Int

    public var outputHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    public var outputWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// Rows of the im2col matrix: one per (channel, kernel row, kernel column).
    public var patchSize: Int { channels * kernelHeight * kernelWidth }
    public var outputPixels: Int { outputHeight * outputWidth }

    /// Images per im2col chunk: as many as keep the column buffer under the limit given at
    /// creation, so that each sgemm is wide (one per chunk, not per image) and memory bounded —
    /// but no wider than 8,192 columns: past that, a layer with a short patch (the 1-channel
    /// stem, k = 9) spends its time packing B instead of multiplying.
    public let imagesPerChunk: Int

    init(input: [Int], kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int, columnLimit: Int = 0) {
        precondition(input.count == 4, "expected an NCHW input, not \(input)")
        (batch, channels, height, width) = (input[0], input[1], input[2], input[3])
        (self.kernelHeight, self.kernelWidth, self.stride, self.padding) = (kernelHeight, kernelWidth, stride, padding)
        let outputHeight = (height + 2 * padding - kernelHeight) / stride + 1
        let outputWidth = (width + 2 * padding - kernelWidth) / stride + 1
        precondition(stride > 0 && padding >= 0 && outputHeight > 0 && outputWidth > 0,
                     "window \(kernelHeight)×\(kernelWidth) stride \(stride) padding \(padding) does not fit \(input)")
        let patch = channels * kernelHeight * kernelWidth
        let pixels = outputHeight * outputWidth
        imagesPerChunk = max(1, min(batch, columnLimit / max(1, patch * pixels), 8192 / pixels))
    }

    /// The output columns `ox` of a kernel column `kx` that read inside the image: [first, last).
    private func validColumns(kx: Int) -> (Int, Int) {
        // x = ox·stride − padding + kx must lie in [0, width).
        let first = max(0, (padding - kx + stride - 1) / stride)
        let last = min(outputWidth, (width - 1 + padding - kx) / stride + 1)
        return (first, max(first, last))
    }

    /// One image's patches as columns of a (patchSize × leadingDimension) matrix, starting at
    /// `columns`; zero where the window hangs over the padding.
    func im2col(_ image: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, leadingDimension: Int) {
        for c in 0..<channels {
            for ky in 0..<kernelHeight {
                for kx in 0..<kernelWidth {
                    let row = (c * kernelHeight + ky) * kernelWidth + kx
                    let target = columns + row * leadingDimension
                    let (first, last) = validColumns(kx: kx)
                    // Rows are short (28 floats or fewer in our networks): plain loops, which the
                    // compiler vectorises, cost less here than a memcpy/memset call per row.
                    for oy in 0..<outputHeight {
                        let y = oy * stride - padding + ky
                        let out = target + oy * outputWidth
                        guard y >= 0 && y < height else {
                            for ox in 0..<outputWidth { out[ox] = 0 }
                            continue
                        }
                        for ox in 0..<first { out[ox] = 0 }
                        let source = image + (c * height + y) * width - padding + kx
                        if stride == 1 {
                            for ox in first..<last { out[ox] = source[ox] }
                        } else {
                            for ox in first..<last { out[ox] = source[ox * stride] }
                        }
                        for ox in last..<outputWidth { out[ox] = 0 }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds each column entry back to the pixel it came from.
    func col2im(_ columns: UnsafePointer<Float>, leadingDimension: Int, into image: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            for ky in 0..<kernelHeight {
                for kx in 0..<kernelWidth {
                    let row = (c * kernelHeight + ky) * kernelWidth + kx
                    let source = columns + row * leadingDimension
                    let (first, last) = validColumns(kx: kx)
                    for oy in 0..<outputHeight {
                        let y = oy * stride - padding + ky
                        guard y >= 0 && y < height else { continue }
                        let target = image + (c * height + y) * width - padding + kx
                        let from = source + oy * outputWidth
                        for ox in first..<last { target[ox * stride] += from[ox] }
                    }
                }
            }
        }
    }
}
