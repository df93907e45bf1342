import Testing
@testable import TensorEngine

@Suite("Convolution against its definition")
struct ConvolutionTests {
    /// The direct sum: out[n, o, y, x] = Σ w[o, c, ky, kx] · in[n, c, y·s − p + ky, x·s − p + kx].
    static func direct(_ input: Tensor, _ weight: Tensor, stride: Int, padding: Int) -> [Float] {
        let (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (outputs, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let oh = (height + 2 * padding - kh) / stride + 1, ow = (width + 2 * padding - kw) / stride + 1
        var out = [Float](repeating: 0, count: batch * outputs * oh * ow)
        for n in 0..<batch { for o in 0..<outputs { for y in 0..<oh { for x in 0..<ow {
            var sum: Double = 0
            for c in 0..<channels { for ky in 0..<kh { for kx in 0..<kw {
                let sy = y * stride - padding + ky, sx = x * stride - padding + kx
                guard sy >= 0, sy < height, sx >= 0, sx < width else { continue }
                sum += Double(weight.data[((o * channels + c) * kh + ky) * kw + kx]) * Double(input.data[((n * channels + c) * height + sy) * width + sx])
            } } }
            out[((n * outputs + o) * oh + y) * ow + x] = Float(sum)
        } } } }
        return out
    }

    /// Same-width geometries take im2col's fast path (one copy per kernel position); the others,
    /// and images narrower than the kernel's reach, the general one. Both agree with the sum,
    /// whether images are multiplied a chunk at a time (small) or one by one (12×13 pixels), and
    /// stride 2 whatever the row's length (its copy goes eight, four and one at a time).
    @Test(arguments: [
        (kernel: 3, padding: 1, stride: 1, side: 6), (kernel: 5, padding: 2, stride: 1, side: 7), (kernel: 1, padding: 0, stride: 1, side: 5),
        (kernel: 5, padding: 2, stride: 1, side: 2), (kernel: 3, padding: 1, stride: 2, side: 7), (kernel: 3, padding: 2, stride: 1, side: 4),
        (kernel: 3, padding: 0, stride: 1, side: 5), (kernel: 3, padding: 1, stride: 1, side: 12),
        (kernel: 3, padding: 1, stride: 2, side: 29), (kernel: 1, padding: 0, stride: 2, side: 13),
    ])
    func matchesTheDirectSum(kernel: Int, padding: Int, stride: Int, side: Int) {
        var random = SeededGenerator(seed: UInt64(kernel * 100 + padding * 10 + side))
        let input = Tensor(shape: [3, 2, side, side + 1], data: (0..<(3 * 2 * side * (side + 1))).map { _ in random.uniform(-1, 1) })
        let weight = Tensor(shape: [4, 2, kernel, kernel], data: (0..<(4 * 2 * kernel * kernel)).map { _ in random.uniform(-1, 1) })
        let expected = Self.direct(input, weight, stride: stride, padding: padding)
        let actual = input.conv2d(weight, stride: stride, padding: padding)
        #expect(actual.data.count == expected.count)
        #expect(zip(actual.data, expected).allSatisfy { abs($0 - $1) < 1e-4 }, "\(kernel)×\(kernel), padding \(padding), stride \(stride), side \(side)")
        // The fused inference path: the same, then the affine, the residual and ReLU.
        let scale: [Float] = [0.5, -1, 2, 1], shift: [Float] = [0.1, 0.2, -0.3, 0]
        let residual = Tensor(shape: actual.shape, data: actual.data.map { _ in random.uniform(-1, 1) })
        let fused = input.conv2d(weight, stride: stride, padding: padding,
                                 epilogue: ConvolutionEpilogue(scale: scale, shift: shift, residual: residual, relu: true))
        let plane = actual.shape[2] * actual.shape[3]
        for i in 0..<expected.count {
            let channel = (i / plane) % 4
            #expect(abs(fused.data[i] - max(expected[i] * scale[channel] + shift[channel] + residual.data[i], 0)) < 1e-4)
        }
    }

    /// A batch is cut into a multiple of the workers' count of chunks of near-equal size, none
    /// over the column budget, unless it is too narrow to share.
    @Test(arguments: [(side: 28, channels: 16), (side: 14, channels: 32), (side: 7, channels: 64), (side: 1, channels: 8)])
    func chunksShareTheBatchEvenly(side: Int, channels: Int) {
        for (batch, workers) in [(128, 2), (100, 3), (1, 2), (5, 2)] {
            let geometry = ConvolutionGeometry(convolving: [batch, channels, side, side], kernel: 3, stride: 1, padding: 1)
            let count = geometry.chunkCount(workers: workers)
            let sizes = (0..<count).map { geometry.images(ofChunk: $0, of: count).count }
            #expect(sizes.reduce(0, +) == batch && sizes.allSatisfy { $0 >= 1 && $0 <= geometry.imagesPerChunk })
            #expect(sizes.max()! - sizes.min()! <= 1)
            let wide = batch * side * side >= 2 * ConvolutionGeometry.narrowestSharedProduct
            #expect(count == 1 ? !wide || batch < workers : count % workers == 0 || count == batch,
                    "\(batch) images of \(side)² on \(workers) workers: \(sizes)")
        }
    }

    @Test func upsamplingRepeatsEachPixel() {
        let input = Tensor(shape: [1, 2, 1, 2], data: [1, 2, 3, 4])
        #expect(input.upsampled2d(factor: 2).shape == [1, 2, 2, 4])
        #expect(input.upsampled2d(factor: 2).data == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        #expect(input.upsampled2d(factor: 1).data == input.data)
    }
}
