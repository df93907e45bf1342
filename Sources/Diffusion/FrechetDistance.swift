import Foundation

/// The Fréchet distance between two sets of feature vectors, each taken as a Gaussian (Heusel et
/// al.'s FID, on whatever features are given): |μ₁ − μ₂|² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½). The trace of
/// (Σ₁Σ₂)^½ is the sum of the square roots of the eigenvalues of Σ₁^½ Σ₂ Σ₁^½, a symmetric matrix,
/// found by Jacobi rotations in Double (the features are a few dozen wide).
public enum FrechetDistance {
    public static func between(_ first: [[Float]], _ second: [[Float]]) -> Double {
        precondition(first.count >= 2 && second.count >= 2 && first[0].count == second[0].count, "two sets of equal width")
        let (mean1, covariance1) = moments(first), (mean2, covariance2) = moments(second)
        let d = mean1.count
        let meanTerm = zip(mean1, mean2).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let root1 = squareRoot(covariance1, size: d)
        let product = multiply(multiply(root1, covariance2, size: d), root1, size: d)
        let crossTrace = eigenvalues(product, size: d).reduce(0) { $0 + max($1, 0).squareRoot() }
        let traces = (0..<d).reduce(0) { $0 + covariance1[$1 * d + $1] + covariance2[$1 * d + $1] }
        return meanTerm + traces - 2 * crossTrace
    }

    /// Mean and (unbiased) covariance, d × d row-major.
    static func moments(_ rows: [[Float]]) -> ([Double], [Double]) {
        let d = rows[0].count, n = Double(rows.count)
        var mean = [Double](repeating: 0, count: d)
        for row in rows { for i in 0..<d { mean[i] += Double(row[i]) / n } }
        var covariance = [Double](repeating: 0, count: d * d)
        for row in rows {
            for i in 0..<d {
                let a = Double(row[i]) - mean[i]
                for j in i..<d { covariance[i * d + j] += a * (Double(row[j]) - mean[j]) }
            }
        }
        for i in 0..<d { for j in i..<d { covariance[i * d + j] /= n - 1; covariance[j * d + i] = covariance[i * d + j] } }
        return (mean, covariance)
    }

    /// The symmetric square root of a symmetric positive semi-definite matrix: V·diag(√λ)·Vᵀ.
    static func squareRoot(_ matrix: [Double], size d: Int) -> [Double] {
        let (values, vectors) = eigen(matrix, size: d)
        var root = [Double](repeating: 0, count: d * d)
        for k in 0..<d {
            let s = max(values[k], 0).squareRoot()
            for i in 0..<d { for j in 0..<d { root[i * d + j] += vectors[i * d + k] * s * vectors[j * d + k] } }
        }
        return root
    }

    static func eigenvalues(_ matrix: [Double], size d: Int) -> [Double] { eigen(matrix, size: d).values }

    /// Eigenvalues and eigenvectors (columns) of a symmetric matrix by cyclic Jacobi rotations.
    static func eigen(_ matrix: [Double], size d: Int) -> (values: [Double], vectors: [Double]) {
        var a = matrix
        var v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<d { for j in (i + 1)..<max(i + 1, d) { off += a[i * d + j] * a[i * d + j] } }
            if off < 1e-22 { break }
            for p in 0..<d {
                for q in (p + 1)..<max(p + 1, d) where abs(a[p * d + q]) > 1e-300 {
                    let theta = (a[q * d + q] - a[p * d + p]) / (2 * a[p * d + q])
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<d {
                        let (akp, akq) = (a[k * d + p], a[k * d + q])
                        a[k * d + p] = c * akp - s * akq
                        a[k * d + q] = s * akp + c * akq
                    }
                    for k in 0..<d {
                        let (apk, aqk) = (a[p * d + k], a[q * d + k])
                        a[p * d + k] = c * apk - s * aqk
                        a[q * d + k] = s * apk + c * aqk
                    }
                    for k in 0..<d {
                        let (vkp, vkq) = (v[k * d + p], v[k * d + q])
                        v[k * d + p] = c * vkp - s * vkq
                        v[k * d + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<d).map { a[$0 * d + $0] }, v)
    }

    static func multiply(_ a: [Double], _ b: [Double], size d: Int) -> [Double] {
        var c = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for k in 0..<d { let x = a[i * d + k]; for j in 0..<d { c[i * d + j] += x * b[k * d + j] } } }
        return c
    }
}
