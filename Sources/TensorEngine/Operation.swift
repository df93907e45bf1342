/// The primitive operations the engine differentiates. Everything else (mean, softmax, losses)
/// is composed of these; `Tensor+Backward.swift` holds one gradient rule per case.
enum Operation {
    case add(Tensor, Tensor)
    case subtract(Tensor, Tensor)
    case multiply(Tensor, Tensor)
    case divide(Tensor, Tensor)
    case matmul(Tensor, Tensor)
    case exp(Tensor)
    case log(Tensor)
    case relu(Tensor)
    case sigmoid(Tensor)
    case tanh(Tensor)
    /// Sum over one axis (kept with size 1), or over everything to a scalar when `axis` is nil.
    case sum(Tensor, axis: Int?)
    case reshape(Tensor)
    /// Swaps the last two axes.
    case transpose(Tensor)
    /// Reorders axes: output axis i is input axis `axes[i]`.
    case permute(Tensor, axes: [Int])
    case sqrt(Tensor)
    case erf(Tensor)
    /// Joins tensors along an axis.
    case concat([Tensor], axis: Int)
    /// `length` entries of `axis` from `start`.
    case slice(Tensor, axis: Int, start: Int)
    /// Rows of a table (vocabulary × width) picked by index.
    case embedding(Tensor, indices: [Int])
    /// NCHW input, OIHW weight.
    case conv2d(Tensor, Tensor, geometry: ConvolutionGeometry)
    /// The input element each output took its maximum from.
    case maxPool2d(Tensor, sources: [Int])
    case averagePool2d(Tensor, geometry: ConvolutionGeometry)
    /// Each pixel of NCHW repeated `factor`×`factor` times (nearest-neighbour upsampling).
    case upsample2d(Tensor, factor: Int)
    /// Per-channel normalisation of (N, C, …) with an affine, then a residual added and a ReLU
    /// when the statistics say so: fused, since batch norm sits after every convolution and its
    /// composed form took ten passes over the activations.
    case batchNorm(Tensor, scale: Tensor, shift: Tensor, residual: Tensor?, statistics: BatchNormStatistics)
    /// Group normalisation of (N, C, …) with a per-channel affine, and a SiLU when the statistics
    /// say so: fused, as it sits in every residual block of a diffusion U-Net.
    case groupNorm(Tensor, scale: Tensor, shift: Tensor, statistics: GroupNormStatistics)
    /// A value per (image, channel) plane, of shape [C] or [N, C], added to (N, C, …).
    case planeBias(Tensor, Tensor)

    var inputs: [Tensor] {
        switch self {
        case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b), .divide(let a, let b),
             .matmul(let a, let b):
            [a, b]
        case .exp(let a), .log(let a), .relu(let a), .sigmoid(let a), .tanh(let a), .sum(let a, _),
             .reshape(let a), .transpose(let a), .permute(let a, _), .sqrt(let a), .erf(let a), .slice(let a, _, _),
             .embedding(let a, _), .maxPool2d(let a, _), .averagePool2d(let a, _), .upsample2d(let a, _):
            [a]
        case .conv2d(let a, let b, _), .planeBias(let a, let b):
            [a, b]
        case .groupNorm(let a, let scale, let shift, _):
            [a, scale, shift]
        case .batchNorm(let a, let scale, let shift, let residual, _):
            [a, scale, shift] + (residual.map { [$0] } ?? [])
        case .concat(let tensors, _):
            tensors
        }
    }
}
