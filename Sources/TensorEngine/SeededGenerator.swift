import Foundation

/// xoshiro256** seeded through SplitMix64: the same seed gives the same numbers on every run.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1), with 24 bits: every value a Float can hold exactly.
    public mutating func unit() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * unit() }

    /// Normal by Box–Muller.
    public mutating func normal(mean: Float = 0, standardDeviation: Float = 1) -> Float {
        let u1 = max(unit(), .leastNormalMagnitude), u2 = unit()
        return mean + standardDeviation * (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2)
    }
}

extension Tensor {
    /// Kaiming-normal initial weights for a layer with `fanIn` inputs (ReLU networks).
    public static func kaimingNormal(_ shape: [Int], fanIn: Int, using generator: inout SeededGenerator) -> Tensor {
        let deviation = (2 / Float(fanIn)).squareRoot()
        return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in generator.normal(standardDeviation: deviation) },
                      requiresGrad: true)
    }
}
