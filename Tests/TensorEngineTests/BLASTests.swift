import Testing
@testable import TensorEngine

@Suite("The BLAS door", .serialized)
struct BLASTests {
    /// Products large enough to be cut among workers, wide (column blocks, one not a multiple of
    /// 16) and tall (row blocks), in every transposition: the same as the reference.
    @Test(arguments: [(BLAS.Transpose.none, BLAS.Transpose.none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)])
    func productsCutAmongWorkersMatchTheReference(transA: BLAS.Transpose, transB: BLAS.Transpose) {
        for (m, n, k) in [(24, 1000, 180), (700, 30, 200)] {
            #expect(m * n * k >= BLAS.parallelThreshold)
            var random = SeededGenerator(seed: 4)
            let a = (0..<(m * k)).map { _ in random.uniform(-1, 1) }
            let b = (0..<(k * n)).map { _ in random.uniform(-1, 1) }
            var expected = (0..<(m * n)).map { _ in random.uniform(-1, 1) }
            var actual = expected
            BLAS.naiveSgemm(transA, transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 2, c: &expected)
            let workers = BLAS.workers
            BLAS.setThreads(3)
            BLAS.sgemm(transA, transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 2, c: &actual)
            BLAS.setThreads(workers)
            #expect(zip(expected, actual).allSatisfy { abs($0 - $1) < 1e-3 }, "\(m)×\(n)×\(k)")
        }
    }

    @Test(arguments: [(BLAS.Transpose.none, BLAS.Transpose.none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)])
    func sgemmMatchesTheNaiveReference(transA: BLAS.Transpose, transB: BLAS.Transpose) {
        let (m, n, k) = (7, 5, 9)
        var random = SeededGenerator(seed: 3)
        let a = (0..<(m * k)).map { _ in random.uniform(-1, 1) }
        let b = (0..<(k * n)).map { _ in random.uniform(-1, 1) }
        var expected = (0..<(m * n)).map { _ in random.uniform(-1, 1) }
        var actual = expected
        BLAS.naiveSgemm(transA, transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 2, c: &expected)
        BLAS.sgemm(transA, transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 2, c: &actual)
        #expect(zip(expected, actual).allSatisfy { abs($0 - $1) < 1e-4 })
    }
}
