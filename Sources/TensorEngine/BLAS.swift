import COpenBLAS

/// The one door to OpenBLAS. Every size crosses into C as a checked `Int32`; a naive reference
/// implementation sits beside it for the tests.
public enum BLAS {
    public enum Transpose: Sendable { case none, transposed }

    /// Sets OpenBLAS's thread count explicitly (it otherwise takes every core, fighting the
    /// daemon's own threads).
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(checking: count))
    }

    /// C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) + beta · C, row-major, contiguous.
    public static func sgemm(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>) {
        guard m > 0, n > 0 else { return }
        let lda = transA == .none ? k : m
        let ldb = transB == .none ? n : k
        cblas_sgemm(CblasRowMajor, transA == .none ? CblasNoTrans : CblasTrans, transB == .none ? CblasNoTrans : CblasTrans,
                    Int32(checking: m), Int32(checking: n), Int32(checking: k), alpha,
                    a, Int32(checking: max(1, lda)), b, Int32(checking: max(1, ldb)), beta, c, Int32(checking: n))
    }

    /// The same product by three loops: the reference the tests hold `sgemm` to.
    public static func naiveSgemm(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
                                  alpha: Float = 1, a: [Float], b: [Float], beta: Float = 0, c: inout [Float]) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Double = 0
                for p in 0..<k {
                    let x = transA == .none ? a[i * k + p] : a[p * m + i]
                    let y = transB == .none ? b[p * n + j] : b[j * k + p]
                    sum += Double(x) * Double(y)
                }
                c[i * n + j] = alpha * Float(sum) + beta * c[i * n + j]
            }
        }
    }
}

extension Int32 {
    /// Converts a size for a C call, stopping the program rather than truncating it.
    init(checking value: Int) {
        guard let converted = Int32(exactly: value) else { preconditionFailure("\(value) does not fit a BLAS Int32") }
        self = converted
    }
}
