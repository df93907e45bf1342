import CVectorMath

/// Sums, batch norm's passes and a strided copy over floats, in SIMD registers. The compiler
/// keeps a scalar `Float` sum in order (IEEE addition is not associative), so a plain loop adds
/// one value at a time, and compiles a ReLU's mask to a branch per element (mispredicted half the
/// time); sixteen lanes add sixteen, select without branching, and sum in a fixed order whatever
/// the worker. Public for the transformers' inference plans, whose norms and softmaxes are the
/// same reductions.
public enum VectorKernels {
    private typealias Lanes = SIMD16<Float>

    /// x[i] = exp(x[i] − shift), in vector lanes (`CVectorMath`): within 2 ulp of `Foundation.exp`
    /// down to −87.3, 0 below; for softmaxes, whose arguments are at most 0.
    public static func expShifted(_ x: UnsafeMutablePointer<Float>, count: Int, shift: Float) {
        expShifted(x, count: count, shift: shift, avx512: ProcessorFeatures.avx512)
    }

    /// The same on the build the tests choose (the AVX-512 one only where it runs).
    static func expShifted(_ x: UnsafeMutablePointer<Float>, count: Int, shift: Float, avx512: Bool) {
        radstream_exp_shifted(x, Int32(count), shift, avx512 ? 1 : 0)
    }

    /// x[i] · Φ(x[i]) (GELU), in vector lanes (`CVectorMath`): within 3e-7 · max(1, |x|) of
    /// `Tensor.gelu`'s libm erf.
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        gelu(x, count: count, avx512: ProcessorFeatures.avx512)
    }

    static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int, avx512: Bool) {
        radstream_gelu(x, Int32(count), avx512 ? 1 : 0)
    }

    @inline(__always)
    private static func load(_ pointer: UnsafePointer<Float>, _ offset: Int) -> Lanes {
        UnsafeRawPointer(pointer + offset).loadUnaligned(as: Lanes.self)
    }

    /// Σ x[i].
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = Lanes()
        var i = 0
        while i + 16 <= count {
            lanes += load(x, i)
            i += 16
        }
        var total = lanes.sum()
        while i < count { total += x[i]; i += 1 }
        return total
    }

    /// max x[i] (−∞ for none).
    public static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = Lanes(repeating: -.infinity)
        var i = 0
        while i + 16 <= count {
            let v = load(x, i)
            lanes = lanes.replacing(with: v, where: v .> lanes)
            i += 16
        }
        var largest = lanes.max()
        while i < count { largest = max(largest, x[i]); i += 1 }
        return largest
    }

    /// Σ (x[i] − mean)²: a layer norm's variance, about the mean already summed.
    public static func squaredDeviations(_ x: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
        var lanes = Lanes()
        let m = Lanes(repeating: mean)
        var i = 0
        while i + 16 <= count {
            let d = load(x, i) - m
            lanes += d * d
            i += 16
        }
        var total = lanes.sum()
        while i < count { total += (x[i] - mean) * (x[i] - mean); i += 1 }
        return total
    }

    /// (Σ (x[i] − shift), Σ (x[i] − shift)²) in one pass: the moments of a batch-norm channel
    /// about a value of its own (so that no large mean cancels out of the variance).
    static func shiftedMoments(_ x: UnsafePointer<Float>, count: Int, shift: Float) -> (Float, Float) {
        var (sum, squares) = (Lanes(), Lanes())
        let s = Lanes(repeating: shift)
        var i = 0
        while i + 16 <= count {
            let d = load(x, i) - s
            sum += d
            squares += d * d
            i += 16
        }
        var (total, totalSquares) = (sum.sum(), squares.sum())
        while i < count { let d = x[i] - shift; total += d; totalSquares += d * d; i += 1 }
        return (total, totalSquares)
    }

    /// target[i] = x[i]·scale + offset, then + residual[i], then ReLU: a batch norm's output.
    static func affine(_ x: UnsafePointer<Float>, scale: Float, offset: Float, residual: UnsafePointer<Float>?, relu: Bool,
                       into target: UnsafeMutablePointer<Float>, count: Int) {
        let (a, b, zero) = (Lanes(repeating: scale), Lanes(repeating: offset), Lanes())
        var i = 0
        while i + 16 <= count {
            var v = load(x, i) * a + b
            if let residual { v += load(residual, i) }
            if relu { v = v.replacing(with: zero, where: v .< zero) }
            store(v, target, i)
            i += 16
        }
        while i < count {
            var v = x[i] * scale + offset
            if let residual { v += residual[i] }
            target[i] = relu ? max(v, 0) : v
            i += 1
        }
    }

    /// The first pass of a batch norm's gradient: dz = dy, or dy where y > 0 under a ReLU
    /// (written to `dz` when given), and (Σ dz, Σ dz·(x − mean)).
    static func gradientSums(_ dy: UnsafePointer<Float>, output y: UnsafePointer<Float>?, input x: UnsafePointer<Float>, mean: Float,
                             dz: UnsafeMutablePointer<Float>?, count: Int) -> (Float, Float) {
        var (sum, dot) = (Lanes(), Lanes())
        let (m, zero) = (Lanes(repeating: mean), Lanes())
        var i = 0
        while i + 16 <= count {
            var d = load(dy, i)
            if let y { d = d.replacing(with: zero, where: load(y, i) .<= zero) }
            if let dz { store(d, dz, i) }
            sum += d
            dot += d * (load(x, i) - m)
            i += 16
        }
        var (s, t) = (sum.sum(), dot.sum())
        while i < count {
            var d = dy[i]
            if let y, y[i] <= 0 { d = 0 }
            dz?[i] = d
            s += d
            t += d * (x[i] - mean)
            i += 1
        }
        return (s, t)
    }

    /// The second pass: dx[i] = a·dz[i] + b·x[i] + c, the batch norm's input gradient with its
    /// per-channel constants folded.
    static func inputGradient(_ dz: UnsafePointer<Float>, input x: UnsafePointer<Float>, a: Float, b: Float, c: Float,
                              into dx: UnsafeMutablePointer<Float>, count: Int) {
        let (va, vb, vc) = (Lanes(repeating: a), Lanes(repeating: b), Lanes(repeating: c))
        var i = 0
        while i + 16 <= count {
            store(load(dz, i) * va + load(x, i) * vb + vc, dx, i)
            i += 16
        }
        while i < count { dx[i] = a * dz[i] + b * x[i] + c; i += 1 }
    }

    @inline(__always)
    private static func store(_ value: Lanes, _ pointer: UnsafeMutablePointer<Float>, _ offset: Int) {
        UnsafeMutableRawPointer(pointer + offset).storeBytes(of: value, as: Lanes.self)
    }

    /// target[i] = source[2i] for i < count: a stride-2 convolution's im2col row, eight (then four)
    /// at a time from twice as many loaded, where a scalar loop gathers one float per
    /// instruction. Reads nothing past source[2·(count − 1)].
    static func everyOther(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 < count {
            let pairs = UnsafeRawPointer(source + 2 * i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(target + i).storeBytes(of: pairs.evenHalf, as: SIMD8<Float>.self)
            i += 8
        }
        while i + 4 < count {
            let pairs = UnsafeRawPointer(source + 2 * i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(target + i).storeBytes(of: pairs.evenHalf, as: SIMD4<Float>.self)
            i += 4
        }
        while i < count { target[i] = source[2 &* i]; i &+= 1 }
    }
}
