import Testing
@testable import TensorEngine

@Suite("The BLAS door")
struct BLASTests {
    @Test(arguments: [(BLAS.Transpose.none, BLAS.Transpose.none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)])
    func sgemmMatchesTheNaiveReference(transA: BLAS.Transpose, transB: BLAS.Transpose) {
        let (m, n, k) = (7, 5, 9)
        var random = SplitMix(seed: 3)
        let a = (0..<(m * k)).map { _ in random.uniform(-1, 1) }
        let b = (0..<(k * n)).map { _ in random.uniform(-1, 1) }
        var expected = (0..<(m * n)).map { _ in random.uniform(-1, 1) }
        var actual = expected
        BLAS.naiveSgemm(transA, transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 2, c: &expected)
        BLAS.sgemm(transA, transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 2, c: &actual)
        #expect(zip(expected, actual).allSatisfy { abs($0 - $1) < 1e-4 })
    }
}

/// A small seeded generator for test inputs (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * Float(next() >> 40) / Float(1 << 24)
    }
}
