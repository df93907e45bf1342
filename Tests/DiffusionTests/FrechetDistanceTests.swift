import Testing
import TensorEngine
@testable import Diffusion

@Suite("Fréchet distance")
struct FrechetDistanceTests {
    static func gaussian(_ count: Int, mean: [Float], deviation: Float, seed: UInt64) -> [[Float]] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in mean.map { $0 + deviation * generator.normal() } }
    }

    @Test func jacobiFindsTheEigenvaluesOfASymmetricMatrix() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let values = FrechetDistance.eigenvalues([2, 1, 1, 2], size: 2).sorted()
        #expect(abs(values[0] - 1) < 1e-12 && abs(values[1] - 3) < 1e-12)
        let root = FrechetDistance.squareRoot([4, 0, 0, 9], size: 2)
        #expect(zip(root, [2.0, 0, 0, 3]).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    /// Between samples of one Gaussian, near 0; between Gaussians whose means differ by μ and whose
    /// deviations are σ₁ and σ₂, near |μ|² + d·(σ₁ − σ₂)².
    @Test func theDistanceIsThatOfTheGaussians() {
        let d = 6
        let a = Self.gaussian(4000, mean: [Float](repeating: 0, count: d), deviation: 1, seed: 1)
        let b = Self.gaussian(4000, mean: [Float](repeating: 0, count: d), deviation: 1, seed: 2)
        let c = Self.gaussian(4000, mean: [Float](repeating: 1, count: d), deviation: 2, seed: 3)
        #expect(abs(FrechetDistance.between(a, b)) < 0.05)
        let expected = Double(d) * 1 + Double(d) * 1  // |μ|² = 6, d·(2 − 1)² = 6
        #expect(abs(FrechetDistance.between(a, c) - expected) < 0.6, "\(FrechetDistance.between(a, c))")
        #expect(abs(FrechetDistance.between(a, c) - FrechetDistance.between(c, a)) < 1e-6)
    }
}
