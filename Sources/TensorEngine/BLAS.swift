import COpenBLAS
import Dispatch

/// The one door to OpenBLAS. Every size crosses into C as a checked `Int32`; a naive reference
/// implementation sits beside it for the tests.
///
/// OpenBLAS itself runs on one thread, and the engine spreads its work over its own workers
/// (`EngineWorkers`): a product is cut into blocks of C here, a convolution into chunks of images. OpenBLAS's own threads
/// spin (`sched_yield`) between calls, and on the small products of our networks that spinning
/// took a third of the CPU, more than the multiplications (profiled with perf on the reference
/// CNN); cutting the work ourselves also lets im2col and the copies run on every core. Calls
/// from several threads at once are safe: each spreads over the workers on its own.
public enum BLAS {
    public enum Transpose: Sendable { case none, transposed }

    /// OpenBLAS is set to one thread once, before its first use.
    private static let singleThreaded: Void = openblas_set_num_threads(1)

    /// Products smaller than this many multiply-adds run on the calling thread: waking a worker
    /// costs more than they do.
    static let parallelThreshold = 1 << 22

    /// C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) + beta · C, row-major, contiguous. Large
    /// products are cut into blocks of C's rows or columns, one per worker, unless `parallel`
    /// is false (the caller is already one of several workers).
    public static func sgemm(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, parallel: Bool = true) {
        sgemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c, workers: parallel ? EngineWorkers.count : 1)
    }

    /// The same, cut among at most `workers` (the tests choose the count without touching the
    /// engine's setting, which other threads are using).
    static func sgemm(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>,
                      b: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>, workers available: Int) {
        guard m > 0, n > 0 else { return }
        _ = singleThreaded
        let lda = transA == .none ? k : m
        let ldb = transB == .none ? n : k
        let workers = m * n * k >= parallelThreshold ? min(available, max(m, n / 16)) : 1
        guard workers > 1 else {
            call(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: n)
            return
        }
        nonisolated(unsafe) let (a, b, c) = (a, b, c)  // each worker reads shared inputs and writes its own block of C
        if n >= m {
            // Column blocks, multiples of 16 wide so that the kernel's vectors stay whole.
            let width = (n + workers - 1) / workers + 15 & ~15
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let first = worker * width, count = min(width, n - first)
                guard count > 0 else { return }
                let block = transB == .none ? b + first : b + first * k
                call(transA, transB, m: m, n: count, k: k, alpha: alpha, a: a, lda: lda, b: block, ldb: ldb,
                     beta: beta, c: c + first, ldc: n)
            }
        } else {
            let height = (m + workers - 1) / workers
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let first = worker * height, count = min(height, m - first)
                guard count > 0 else { return }
                let block = transA == .none ? a + first * k : a + first
                call(transA, transB, m: count, n: n, k: k, alpha: alpha, a: block, lda: lda, b: b, ldb: ldb,
                     beta: beta, c: c + first * n, ldc: n)
            }
        }
    }

    /// OpenBLAS's own sgemm on its own `threads` threads, square and untransposed: what the
    /// benchmarks hold the engine to. OpenBLAS is single-threaded again on return.
    public static func openBLASSgemm(size: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                                     threads: Int) {
        openblas_set_num_threads(Int32(checking: threads))
        defer { openblas_set_num_threads(1) }
        call(.none, .none, m: size, n: size, k: size, alpha: 1, a: a, lda: size, b: b, ldb: size, beta: 0, c: c, ldc: size)
    }

    private static func call(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
                             c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA == .none ? CblasNoTrans : CblasTrans, transB == .none ? CblasNoTrans : CblasTrans,
                    Int32(checking: m), Int32(checking: n), Int32(checking: k), alpha,
                    a, Int32(checking: max(1, lda)), b, Int32(checking: max(1, ldb)), beta, c, Int32(checking: ldc))
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
