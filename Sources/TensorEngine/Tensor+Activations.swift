import Foundation

// Activations, losses and attention composed of the primitives.
extension Tensor {
    /// GELU with the exact Gauss error function, as PyTorch's default.
    public func gelu() -> Tensor { self * ((self * Float(1 / 2.0.squareRoot())).erf() + 1) * 0.5 }

    public func silu() -> Tensor { self * sigmoid() }

    /// Zeroes each element with probability `rate` and scales the rest by 1/(1 − rate).
    public func dropout(rate: Float, using generator: inout SeededGenerator) -> Tensor {
        guard rate > 0 else { return self }
        let keep = 1 - rate
        let mask = (0..<count).map { _ in generator.unit() < keep ? 1 / keep : 0 }
        return self * Tensor(shape: shape, data: mask)
    }

    /// Mean binary cross-entropy of logits against targets in [0, 1], in the stable form
    /// max(x, 0) − x·t + log(1 + e^−|x|).
    public func binaryCrossEntropy(logitsAgainst targets: Tensor) -> Tensor {
        let absolute = relu() + (-self).relu()
        return (relu() - self * targets + ((-absolute).exp() + 1).log()).mean()
    }

    /// KL(target ‖ model) per batch row, averaged: Σ p·(log p − log q), with `self` the model's
    /// log-probabilities and `targetLogProbabilities` the teacher's, as distillation needs.
    public func klDivergence(from targetLogProbabilities: Tensor) -> Tensor {
        let p = targetLogProbabilities.exp()
        return (p * (targetLogProbabilities - self)).sum() * (1 / Float(shape[0]))
    }

    /// softmax(Q·Kᵀ/√d + mask)·V for (…, queries, d) × (…, keys, d). `causal` hides later keys;
    /// `keyPadding` (one flag per key, true = padding) hides padded keys.
    public static func attention(query: Tensor, key: Tensor, value: Tensor, causal: Bool = false,
                                 keyPadding: [Bool]? = nil) -> Tensor {
        let (queries, keys, depth) = (query.shape[query.rank - 2], key.shape[key.rank - 2], query.shape[query.rank - 1])
        var scores = query.matmul(key.transposed()) * (1 / Float(depth).squareRoot())
        if causal || keyPadding != nil {
            var mask = [Float](repeating: 0, count: queries * keys)
            for q in 0..<queries {
                for k in 0..<keys where (causal && k > q + keys - queries) || (keyPadding?[k] ?? false) {
                    mask[q * keys + k] = -1e9
                }
            }
            scores = scores + Tensor(shape: [queries, keys], data: mask)
        }
        return scores.softmax(axis: scores.rank - 1).matmul(value)
    }
}
