import Testing
@testable import TensorEngine

@Suite("The direct 3×3 convolution", .enabled(if: DirectConvolution.available, "the processor runs no AVX-512"))
struct DirectConvolutionTests {
    /// `images` random images and a random 3×3 weight, their convolution by the definition and
    /// its geometry (padding 1).
    static func randomCase(images: Int, channels: Int, outputs: Int, height: Int, width: Int, stride: Int, seed: UInt64)
        -> (input: Tensor, weight: Tensor, expected: [Float], geometry: ConvolutionGeometry) {
        var random = SeededGenerator(seed: seed)
        let input = Tensor(shape: [images, channels, height, width],
                           data: (0..<(images * channels * height * width)).map { _ in random.uniform(-1, 1) })
        let weight = Tensor(shape: [outputs, channels, 3, 3], data: (0..<(outputs * channels * 9)).map { _ in random.uniform(-1, 1) })
        return (input, weight, ConvolutionTests.direct(input, weight, stride: stride, padding: 1),
                ConvolutionGeometry(convolving: input.shape, kernel: 3, stride: stride, padding: 1))
    }

    /// Against the definition, through the kernel on one image and through conv2d on a batch
    /// (whose large images take it): output rows of one vector and a part (28), one part (14,
    /// 12), exactly one (16), several blocks of 32 columns (33 by 40, and 81 wide at stride 2),
    /// one input channel and several, one block of eight output channels and three, stride 1
    /// and 2 on even and odd sides, on one worker and cut among workers.
    @Test(arguments: [
        (channels: 16, outputs: 16, height: 28, width: 28, stride: 1), (channels: 1, outputs: 16, height: 28, width: 28, stride: 1),
        (channels: 32, outputs: 32, height: 14, width: 14, stride: 1), (channels: 3, outputs: 24, height: 16, width: 16, stride: 1),
        (channels: 5, outputs: 8, height: 33, width: 40, stride: 1), (channels: 2, outputs: 8, height: 12, width: 12, stride: 1),
        (channels: 16, outputs: 32, height: 28, width: 28, stride: 2), (channels: 3, outputs: 8, height: 27, width: 31, stride: 2),
        (channels: 2, outputs: 16, height: 24, width: 81, stride: 2),
    ])
    func matchesTheDefinition(channels: Int, outputs: Int, height: Int, width: Int, stride: Int) throws {
        let (input, weight, expected, geometry) = Self.randomCase(images: 2, channels: channels, outputs: outputs, height: height, width: width,
                                                                  stride: stride, seed: UInt64(channels * 1000 + outputs * 10 + width))
        try #require(DirectConvolution.applies(to: geometry, outputs: outputs))
        let plane = channels * height * width, outputPlane = outputs * geometry.outputPixels
        for parallel in [false, true] {
            var output = [Float](repeating: .nan, count: 2 * outputPlane)
            input.data.withUnsafeBufferPointer { x in
                weight.data.withUnsafeBufferPointer { w in
                    output.withUnsafeMutableBufferPointer { y in
                        for image in 0..<2 {
                            DirectConvolution.convolve(x.baseAddress! + image * plane, geometry, weight: w.baseAddress!, outputs: outputs,
                                                       into: y.baseAddress! + image * outputPlane, parallel: parallel)
                        }
                    }
                }
            }
            #expect(zip(output, expected).allSatisfy { abs($0 - $1) < 1e-4 }, "parallel \(parallel)")
        }
        #expect(zip(input.conv2d(weight, stride: stride, padding: 1).data, expected).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    /// The channel-lane kernel against the definition, on one image and through conv2d on a batch
    /// (whose images take it): 7² maps from 7² and from 14² at stride 2 (the reference network's
    /// last stage), 14² maps of 32 channels (its middle stage), one vector of output channels,
    /// two, four, three (48: two, then one) and eight (128: four, twice), tiles of four pixels
    /// with one left (49, 25, 45) and none (4, 16, 196), odd sides at stride 2, one input
    /// channel, on one worker and cut among workers.
    @Test(arguments: [
        (channels: 64, outputs: 64, height: 7, width: 7, stride: 1), (channels: 32, outputs: 64, height: 14, width: 14, stride: 2),
        (channels: 8, outputs: 16, height: 7, width: 7, stride: 1), (channels: 16, outputs: 48, height: 9, width: 10, stride: 2),
        (channels: 3, outputs: 32, height: 2, width: 2, stride: 1), (channels: 5, outputs: 128, height: 4, width: 4, stride: 1),
        (channels: 1, outputs: 16, height: 5, width: 9, stride: 1), (channels: 16, outputs: 32, height: 28, width: 28, stride: 2),
        (channels: 32, outputs: 32, height: 14, width: 14, stride: 1),
    ])
    func theChannelLaneKernelMatchesTheDefinition(channels: Int, outputs: Int, height: Int, width: Int, stride: Int) throws {
        let (input, weight, expected, geometry) = Self.randomCase(images: 3, channels: channels, outputs: outputs, height: height, width: width,
                                                                  stride: stride, seed: UInt64(channels * 1000 + outputs * 10 + width + stride))
        try #require(DirectConvolution.appliesInChannelLanes(geometry, outputs: outputs))
        let plane = channels * height * width, outputPlane = outputs * geometry.outputPixels
        for parallel in [false, true] {
            var output = [Float](repeating: .nan, count: 3 * outputPlane)
            input.data.withUnsafeBufferPointer { x in
                weight.data.withUnsafeBufferPointer { w in
                    output.withUnsafeMutableBufferPointer { y in
                        DirectConvolution.withChannelLaneWeights(w.baseAddress!, geometry, outputs: outputs) { packed in
                            for image in 0..<3 {
                                DirectConvolution.convolveInChannelLanes(x.baseAddress! + image * plane, geometry, packedWeight: packed,
                                                                         outputs: outputs, into: y.baseAddress! + image * outputPlane,
                                                                         parallel: parallel)
                            }
                        }
                    }
                }
            }
            #expect(zip(output, expected).allSatisfy { abs($0 - $1) < 1e-4 }, "parallel \(parallel)")
        }
        #expect(zip(input.conv2d(weight, stride: stride, padding: 1).data, expected).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    /// Weights packed once give what packing at every call gives, bit for bit; only the
    /// channel-lane kernel's weights are packed.
    @Test func weightsPackedOnceConvolveAsPackedEachTime() throws {
        var random = SeededGenerator(seed: 5)
        let (channels, outputs, side) = (32, 64, 14)
        let input = (0..<(3 * channels * side * side)).map { _ in random.uniform(-1, 1) }
        let weight = (0..<(outputs * channels * 9)).map { _ in random.uniform(-1, 1) }
        let geometry = ConvolutionGeometry(convolving: [3, channels, side, side], kernel: 3, stride: 2, padding: 1)
        let packed = try #require(PackedConvolutionWeights(weight, geometry: geometry, outputs: outputs))
        var once = [Float](repeating: .nan, count: 3 * outputs * geometry.outputPixels), each = once
        input.withUnsafeBufferPointer { x in
            weight.withUnsafeBufferPointer { w in
                once.withUnsafeMutableBufferPointer {
                    Tensor.convolve(geometry, outputs: outputs, input: x.baseAddress!, weight: w.baseAddress!, packedWeight: packed,
                                    epilogue: nil, residual: nil, into: $0.baseAddress!)
                }
                each.withUnsafeMutableBufferPointer {
                    Tensor.convolve(geometry, outputs: outputs, input: x.baseAddress!, weight: w.baseAddress!, epilogue: nil, residual: nil,
                                    into: $0.baseAddress!)
                }
            }
        }
        #expect(once == each && !once.contains { $0.isNaN })
        let rows = ConvolutionGeometry(convolving: [3, 16, 28, 28], kernel: 3, stride: 1, padding: 1)
        #expect(PackedConvolutionWeights([Float](repeating: 0, count: 16 * 16 * 9), geometry: rows, outputs: 16) == nil)
    }

    /// The gradients of a same 3×3 convolution of large images, which the direct kernels make:
    /// the input's from the output gradient and the flipped kernel, dX[c, y, x] = Σ w[o, c, ky,
    /// kx] · dY[o, y + 1 − ky, x + 1 − kx]; the weight's from the output gradient and the input,
    /// dW[o, c, ky, kx] = Σ dY[o, y, x] · X[c, y + ky − 1, x + kx − 1], over both images.
    @Test func carriesTheGradients() {
        var random = SeededGenerator(seed: 9)
        let (channels, outputs, side) = (8, 16, 20)
        let input = Tensor(shape: [2, channels, side, side], data: (0..<(2 * channels * side * side)).map { _ in random.uniform(-1, 1) },
                           requiresGrad: true)
        let weight = Tensor(shape: [outputs, channels, 3, 3], data: (0..<(outputs * channels * 9)).map { _ in random.uniform(-1, 1) },
                            requiresGrad: true)
        let upstream = (0..<(2 * outputs * side * side)).map { _ in random.uniform(-1, 1) }
        (input.conv2d(weight, stride: 1, padding: 1) * Tensor(shape: [2, outputs, side, side], data: upstream)).sum().backward()
        let gradient = input.grad!
        for n in 0..<2 { for c in 0..<channels { for y in 0..<side { for x in 0..<side {
            var sum: Double = 0
            for o in 0..<outputs { for ky in 0..<3 { for kx in 0..<3 {
                let (oy, ox) = (y + 1 - ky, x + 1 - kx)
                guard oy >= 0, oy < side, ox >= 0, ox < side else { continue }
                sum += Double(weight.data[((o * channels + c) * 3 + ky) * 3 + kx]) * Double(upstream[((n * outputs + o) * side + oy) * side + ox])
            } } }
            let index = ((n * channels + c) * side + y) * side + x
            #expect(abs(gradient[index] - Float(sum)) < 1e-4, "dX[\(n), \(c), \(y), \(x)]")
        } } } }
        let weightGradient = weight.grad!
        for o in 0..<outputs { for c in 0..<channels { for ky in 0..<3 { for kx in 0..<3 {
            var sum: Double = 0
            for n in 0..<2 { for y in 0..<side { for x in 0..<side {
                let (sy, sx) = (y + ky - 1, x + kx - 1)
                guard sy >= 0, sy < side, sx >= 0, sx < side else { continue }
                sum += Double(upstream[((n * outputs + o) * side + y) * side + x]) * Double(input.data[((n * channels + c) * side + sy) * side + sx])
            } } }
            let index = ((o * channels + c) * 3 + ky) * 3 + kx
            #expect(abs(weightGradient[index] - Float(sum)) < 1e-3, "dW[\(o), \(c), \(ky), \(kx)]")
        } } } }
    }
}
