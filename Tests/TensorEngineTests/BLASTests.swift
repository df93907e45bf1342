import Testing
@testable import TensorEngine

@Suite("The BLAS door")
struct BLASTests {
    static let transpositions: [(BLAS.Transpose, BLAS.Transpose)] = [(.none, .none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)]

    /// C = 0.5·op(A)·op(B) + 2·C on seeded random matrices, by the engine (cut among `workers`)
    /// and by the naive reference; the largest difference.
    static func largestDifference(_ transA: BLAS.Transpose, _ transB: BLAS.Transpose, m: Int, n: Int, k: Int, workers: Int,
                                  seed: UInt64) -> Float {
        var random = SeededGenerator(seed: seed)
        let a = (0..<(m * k)).map { _ in random.uniform(-1, 1) }
        let b = (0..<(k * n)).map { _ in random.uniform(-1, 1) }
        var expected = (0..<(m * n)).map { _ in random.uniform(-1, 1) }
        var actual = expected
        BLAS.naiveSgemm(transA, transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 2, c: &expected)
        BLAS.sgemm(transA, transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 2, c: &actual, workers: workers)
        return zip(expected, actual).map { abs($0 - $1) }.max()!
    }

    /// Products large enough to be cut among workers, wide (column blocks, one not a multiple of
    /// 16) and tall (row blocks), in every transposition: the same as the reference.
    @Test(arguments: transpositions)
    func productsCutAmongWorkersMatchTheReference(transA: BLAS.Transpose, transB: BLAS.Transpose) {
        for (m, n, k) in [(24, 1000, 180), (700, 30, 200)] {
            #expect(m * n * k >= BLAS.parallelThreshold)
            #expect(Self.largestDifference(transA, transB, m: m, n: n, k: k, workers: 3, seed: 4) < 1e-3, "\(m)×\(n)×\(k)")
        }
    }

    @Test(arguments: transpositions)
    func sgemmMatchesTheNaiveReference(transA: BLAS.Transpose, transB: BLAS.Transpose) {
        #expect(Self.largestDifference(transA, transB, m: 7, n: 5, k: 9, workers: 1, seed: 3) < 1e-4)
    }
}
