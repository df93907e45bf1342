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

    init(input: [Int], kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int) {
        precondition(input.count == 4, "expected an NCHW input, not \(input)")
        (batch, channels, height, width) = (input[0], input[1], input[2], input[3])
        (self.kernelHeight, self.kernelWidth, self.stride, self.padding) = (kernelHeight, kernelWidth, stride, padding)
        precondition(stride > 0 && padding >= 0 && outputHeight > 0 && outputWidth > 0,
                     "window \(kernelHeight)×\(kernelWidth) stride \(stride) padding \(padding) does not fit \(input)")
    }

    /// One image's patches as columns: (patchSize × outputPixels), zero where padding.
    func im2col(_ image: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            for ky in 0..<kernelHeight {
                for kx in 0..<kernelWidth {
                    let row = (c * kernelHeight + ky) * kernelWidth + kx
                    let target = columns + row * outputPixels
                    for oy in 0..<outputHeight {
                        let y = oy * stride - padding + ky
                        for ox in 0..<outputWidth {
                            let x = ox * stride - padding + kx
                            target[oy * outputWidth + ox] = (y >= 0 && y < height && x >= 0 && x < width)
                                ? image[(c * height + y) * width + x] : 0
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds each column entry back to the pixel it came from.
    func col2im(_ columns: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            for ky in 0..<kernelHeight {
                for kx in 0..<kernelWidth {
                    let row = (c * kernelHeight + ky) * kernelWidth + kx
                    let source = columns + row * outputPixels
                    for oy in 0..<outputHeight {
                        let y = oy * stride - padding + ky
                        guard y >= 0 && y < height else { continue }
                        for ox in 0..<outputWidth {
                            let x = ox * stride - padding + kx
                            if x >= 0 && x < width { image[(c * height + y) * width + x] += source[oy * outputWidth + ox] }
                        }
                    }
                }
            }
        }
    }
}
