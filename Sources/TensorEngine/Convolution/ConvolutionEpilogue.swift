/// What a fused inference convolution does to each output value y of channel c, in order:
/// y · scale[c] + shift[c] (a batch norm's affine, folded), + the residual's value, then ReLU.
public struct ConvolutionEpilogue {
    public var scale: [Float]
    public var shift: [Float]
    public var residual: Tensor?
    public var relu: Bool

    public init(scale: [Float], shift: [Float], residual: Tensor? = nil, relu: Bool) {
        self.scale = scale
        self.shift = shift
        self.residual = residual
        self.relu = relu
    }

    /// `body` with the factors as pointers, which workers read without touching the arrays:
    /// reading them through the struct retained and released its arrays and its residual once
    /// per channel and image (3.5% of the image daemon's CPU, perf).
    func withFactors<R>(_ body: (Factors) -> R) -> R {
        scale.withUnsafeBufferPointer { scale in
            shift.withUnsafeBufferPointer { shift in body(Factors(scale: scale.baseAddress!, shift: shift.baseAddress!, relu: relu)) }
        }
    }

    /// An epilogue's per-channel factors, valid within `withFactors`.
    struct Factors: @unchecked Sendable {  // pointers read by the workers, written by none
        let scale: UnsafePointer<Float>, shift: UnsafePointer<Float>
        let relu: Bool

        func apply(_ source: UnsafePointer<Float>, channel: Int, residual: UnsafePointer<Float>?,
                   into target: UnsafeMutablePointer<Float>, count: Int) {
            let (a, b) = (scale[channel], shift[channel])
            switch (residual, relu) {
            case (nil, false): for i in 0..<count { target[i] = source[i] * a + b }
            case (nil, true): for i in 0..<count { target[i] = max(source[i] * a + b, 0) }
            case (let r?, false): for i in 0..<count { target[i] = source[i] * a + b + r[i] }
            case (let r?, true): for i in 0..<count { target[i] = max(source[i] * a + b + r[i], 0) }
            }
        }
    }
}
