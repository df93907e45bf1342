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
}
