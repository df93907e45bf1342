// Matrix products: the forward rule and its gradient, one sgemm per matrix each way.
extension Tensor {
    /// (…, m, k) · (k, n) or (…, m, k) · (…, k, n) with equal leading axes: one sgemm per matrix.
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(rank >= 2 && other.rank >= 2, "matmul needs matrices, not \(shape) and \(other.shape)")
        let (m, k, n) = (shape[rank - 2], shape[rank - 1], other.shape[other.rank - 1])
        precondition(other.shape[other.rank - 2] == k, "matmul of \(shape) by \(other.shape)")
        let batch = shape.dropLast(2).reduce(1, *)
        let sharedRight = other.rank == 2
        precondition(sharedRight || Array(other.shape.dropLast(2)) == Array(shape.dropLast(2)),
                     "matmul batch axes differ: \(shape) and \(other.shape)")
        var out = [Float](repeating: 0, count: batch * m * n)
        withPointers(data, other.data) { a, b in
            withMutablePointers(&out) { c in
                for i in 0..<batch {
                    BLAS.sgemm(.none, .none, m: m, n: n, k: k, a: a + i * m * k, b: b + (sharedRight ? 0 : i * k * n), c: c + i * m * n)
                }
            }
        }
        return Tensor(shape: Array(shape.dropLast(2)) + [m, n], data: out, operation: .matmul(self, other))
    }

    /// C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC (summed over the batch when B is shared).
    static func matmulBackward(_ a: Tensor, _ b: Tensor, _ output: [Float]) {
        let (m, k, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1], b.shape[b.rank - 1])
        let batch = a.shape.dropLast(2).reduce(1, *)
        let sharedRight = b.rank == 2
        var da = [Float](repeating: 0, count: a.count)
        var db = [Float](repeating: 0, count: b.count)
        withPointers(output, a.data, b.data) { dc, av, bv in
            withMutablePointers(&da, &db) { da, db in
                for i in 0..<batch {
                    let dcI = dc + i * m * n
                    let bI = bv + (sharedRight ? 0 : i * k * n)
                    if a.requiresGrad { BLAS.sgemm(.none, .transposed, m: m, n: k, k: n, a: dcI, b: bI, c: da + i * m * k) }
                    if b.requiresGrad {
                        BLAS.sgemm(.transposed, .none, m: k, n: n, k: m, a: av + i * m * k, b: dcI,
                                   beta: sharedRight ? 1 : 0, c: db + (sharedRight ? 0 : i * k * n))
                    }
                }
            }
        }
        a.accumulate(da)
        b.accumulate(db)
    }
}
