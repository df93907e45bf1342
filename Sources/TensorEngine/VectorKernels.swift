/// Reductions over contiguous floats in SIMD registers. The compiler keeps a scalar `Float`
/// sum in order (IEEE addition is not associative), so a plain loop adds one value at a time;
/// sixteen lanes in two registers add thirty-two, and sum in a fixed order whatever the worker.
enum VectorKernels {
    private typealias Lanes = SIMD16<Float>

    @inline(__always)
    private static func load(_ pointer: UnsafePointer<Float>, _ offset: Int) -> Lanes {
        UnsafeRawPointer(pointer + offset).loadUnaligned(as: Lanes.self)
    }

    /// Σ x[i].
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var (a, b) = (Lanes(), Lanes())
        var i = 0
        while i + 32 <= count {
            a += load(x, i)
            b += load(x, i + 16)
            i += 32
        }
        var total = (a + b).sum()
        while i < count { total += x[i]; i += 1 }
        return total
    }

    /// Σ (x[i] − mean)².
    static func squaredDeviations(_ x: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
        var (a, b) = (Lanes(), Lanes())
        let m = Lanes(repeating: mean)
        var i = 0
        while i + 32 <= count {
            let (d, e) = (load(x, i) - m, load(x, i + 16) - m)
            a += d * d
            b += e * e
            i += 32
        }
        var total = (a + b).sum()
        while i < count { let d = x[i] - mean; total += d * d; i += 1 }
        return total
    }

    /// (Σ x[i], Σ x[i]·y[i]).
    static func sumAndDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> (Float, Float) {
        var (sum, dot) = (Lanes(), Lanes())
        var i = 0
        while i + 16 <= count {
            let v = load(x, i)
            sum += v
            dot += v * load(y, i)
            i += 16
        }
        var (s, d) = (sum.sum(), dot.sum())
        while i < count { s += x[i]; d += x[i] * y[i]; i += 1 }
        return (s, d)
    }

    /// target[i] = values[i] where reference[i] > 0, else 0: a ReLU's gradient, without the
    /// branch per element that a scalar loop compiles to (and mispredicts half the time).
    static func keepWherePositive(_ values: UnsafePointer<Float>, reference: UnsafePointer<Float>,
                                  into target: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let kept = load(values, i).replacing(with: 0, where: load(reference, i) .<= 0)
            UnsafeMutableRawPointer(target + i).storeBytes(of: kept, as: Lanes.self)
            i += 16
        }
        while i < count { target[i] = reference[i] > 0 ? values[i] : 0; i += 1 }
    }
}
