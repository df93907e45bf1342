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

    var inputs: [Tensor] {
        switch self {
        case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b), .divide(let a, let b),
             .matmul(let a, let b):
            [a, b]
        case .exp(let a), .log(let a), .relu(let a), .sigmoid(let a), .tanh(let a), .sum(let a, _),
             .reshape(let a), .transpose(let a):
            [a]
        }
    }
}
