import Foundation
import Testing
@testable import TensorEngine

@Suite("Vector math")
struct VectorMathTests {
    /// exp in vector lanes against libm's, on both builds that run here: within 2 ulp across
    /// the normal range (every 1/64 from −87.3 to 88, and the shifts a softmax makes), 0 below.
    @Test(arguments: [false, true]) func expIsWithinTwoUlpOfLibm(avx512: Bool) {
        guard !avx512 || ProcessorFeatures.avx512 else { return }
        var arguments = stride(from: Float(-87.3), through: 88, by: 1 / 64).map { $0 }
        arguments += [0, -0, 1e-8, -1e-8, -0.5, 0.5]
        let shifted = arguments.map { $0 + 3 }
        var values = shifted
        values.withUnsafeMutableBufferPointer { VectorKernels.expShifted($0.baseAddress!, count: $0.count, shift: 3, avx512: avx512) }
        for (x, value) in zip(shifted, values) {
            let expected = Foundation.exp(x - 3)
            #expect(abs(value - expected) <= 2 * expected.ulp, "exp(\(x - 3)): \(value), libm \(expected)")
        }
        var tiny: [Float] = [-88, -100, -.infinity]
        tiny.withUnsafeMutableBufferPointer { VectorKernels.expShifted($0.baseAddress!, count: $0.count, shift: 0, avx512: avx512) }
        #expect(tiny == [0, 0, 0])
    }

    /// GELU in vector lanes against x·(1 + erf(x/√2))/2 with libm's erf (what the graph's
    /// `Tensor.gelu` computes), on both builds: every 1/256 over ±12 and the extremes.
    @Test(arguments: [false, true]) func geluIsWithinItsBoundOfLibmsErf(avx512: Bool) {
        guard !avx512 || ProcessorFeatures.avx512 else { return }
        var arguments = stride(from: Float(-12), through: 12, by: 1 / 256).map { $0 }
        arguments += [0, -0, 1e-8, -1e-8, 30, -30, 1e6, -1e6]
        var values = arguments
        values.withUnsafeMutableBufferPointer { VectorKernels.gelu($0.baseAddress!, count: $0.count, avx512: avx512) }
        var worst: Float = 0
        for (x, value) in zip(arguments, values) {
            let expected = x * (Foundation.erf(x * Float(1 / 2.0.squareRoot())) + 1) * 0.5
            let error = abs(value - expected) / max(1, abs(x))
            worst = max(worst, error)
            #expect(error <= 3e-7, "gelu(\(x)): \(value), with libm's erf \(expected)")
        }
        #expect(worst > 0, "a different computation, not a call of libm")
    }
}
