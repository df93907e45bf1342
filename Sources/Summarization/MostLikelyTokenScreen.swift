import CVectorMath
import Synchronization
import TensorEngine

/// Greedy decoding's next token without every logit of the vocabulary, where the model does not
/// copy (the captioner): the vocabulary projection was a third of a captioning step's products,
/// and a softmax over it was computed only to take its largest entry.
///
/// The decoder's final states lie mostly in a few directions. With an orthonormal basis Q of
/// the `rank` leading ones (of the states seen), a logit h·w splits into (Qᵀh)·(Qᵀw), cheap
/// for the whole vocabulary at once, and a rest that Cauchy–Schwarz bounds by ‖h − QQᵀh‖·‖w − QQᵀw‖.
/// Every token whose bound reaches the best exact logit among the cheap ones is computed
/// exactly; the largest of those is the argmax. Where more than `maximumCandidates` reach it, or
/// the two largest exact logits are within `tieMargin` (where the full product's rounding could
/// order them otherwise), the row is left to the full projection: the chosen tokens are always
/// those of the softmax's argmax (a test holds the captions equal).
///
/// The basis comes from the first `sampleCount` final states the decoder computes in full
/// (shared by every plan of the model, on any thread); until then, and for a model whose
/// states are too few, every row takes the full projection.
final class MostLikelyTokenScreen: Sendable {
    struct Basis: Sendable {
        let rank: Int
        /// Q, (width, rank): a state's coordinates are h·Q; and Qᵀ, (rank, width), which maps
        /// them back.
        let directions: [Float], directionsTransposed: [Float]
        /// QᵀWᵀ, (rank, vocabulary): every token's output weights in those coordinates.
        let projectedWeights: [Float]
        /// ‖w − QQᵀw‖ of each token's output weights.
        let residualNorms: [Float]
    }

    private enum State {
        case collecting([Float])
        case building
        case ready(Basis)
    }

    let width: Int, vocabulary: Int, rank: Int, sampleCount: Int
    static let maximumCandidates = 32
    /// Exact logits closer than this are a tie the full product decides.
    static let tieMargin: Float = 1e-3
    private let state = Mutex(State.collecting([]))
    /// Rows decided by the screen, and rows left to the full projection once it had its basis.
    let screenedRows = Atomic(0), undecidedRows = Atomic(0)

    init(width: Int, vocabulary: Int, rank: Int = 32, sampleCount: Int = 8192) {
        (self.width, self.vocabulary, self.rank, self.sampleCount) = (width, vocabulary, min(rank, width), sampleCount)
    }

    /// The basis, once enough states were seen.
    var basis: Basis? {
        state.withLock { if case .ready(let basis) = $0 { basis } else { nil } }
    }

    /// Offers final states computed in full, (rows, width); the basis is made from the first
    /// `sampleCount` rows offered.
    func offer(_ states: UnsafePointer<Float>, rows: Int, embedding: [Float]) {
        let sample: [Float]? = state.withLock { state in
            guard case .collecting(var kept) = state else { return nil }
            state = .collecting([])  // the state's reference dropped, so that appending does not copy
            kept.append(contentsOf: UnsafeBufferPointer(start: states, count: min(rows, sampleCount - kept.count / width) * width))
            state = kept.count / width >= sampleCount ? .building : .collecting(kept)
            return kept.count / width >= sampleCount ? kept : nil
        }
        guard let sample else { return }
        // Made outside the lock (tens of milliseconds, once), while the plans go on in full.
        let made = Self.basis(of: sample, width: width, rank: rank, embedding: embedding, vocabulary: vocabulary)
        state.withLock { $0 = .ready(made) }
    }

    /// The orthonormal basis of the leading `rank` directions of `states` (subspace iteration on
    /// their second moments, in Double), and the vocabulary's weights in it.
    static func basis(of states: [Float], width d: Int, rank k: Int, embedding: [Float], vocabulary v: Int) -> Basis {
        // Their second moments, HᵀH, in one product (the basis's quality, not its exactness, rests on them).
        var products = [Float](repeating: 0, count: d * d)
        states.withUnsafeBufferPointer { h in
            BLAS.sgemm(.transposed, .none, m: d, n: d, k: states.count / d, a: h.baseAddress!, b: h.baseAddress!, c: &products,
                       parallel: false)
        }
        let moments = products.map(Double.init)
        var generator = SeededGenerator(seed: 7)
        var q = (0..<(d * k)).map { _ in Double(generator.unit()) - 0.5 }  // (d, k)
        orthonormalise(&q, rows: d, columns: k)
        for _ in 0..<40 {
            var next = [Double](repeating: 0, count: d * k)
            for i in 0..<d {
                for m in 0..<d {
                    let c = moments[i * d + m]
                    for r in 0..<k { next[i * k + r] += c * q[m * k + r] }
                }
            }
            q = next
            orthonormalise(&q, rows: d, columns: k)
        }
        let directions = q.map(Float.init)
        var projected = [Float](repeating: 0, count: k * v), residuals = [Float](repeating: 0, count: v)
        for token in 0..<v {
            let w = token * d
            var coordinates = [Double](repeating: 0, count: k)
            for r in 0..<k {
                var dot = 0.0
                for i in 0..<d { dot += Double(directions[i * k + r]) * Double(embedding[w + i]) }
                coordinates[r] = dot
                projected[r * v + token] = Float(dot)
            }
            var rest = 0.0
            for i in 0..<d {
                var along = 0.0
                for r in 0..<k { along += Double(directions[i * k + r]) * coordinates[r] }
                let e = Double(embedding[w + i]) - along
                rest += e * e
            }
            // Rounded up a little: the bound must hold with the Float basis's own rounding.
            residuals[token] = Float(rest.squareRoot() * (1 + 1e-5) + 1e-6)
        }
        let transposed = (0..<(k * d)).map { index in directions[(index % d) * k + index / d] }
        return Basis(rank: k, directions: directions, directionsTransposed: transposed, projectedWeights: projected,
                     residualNorms: residuals)
    }

    /// Modified Gram–Schmidt, twice, on the columns of a (rows, columns) matrix; a column that
    /// the others already span becomes zero (the bound holds for any orthonormal set and zeros).
    private static func orthonormalise(_ q: inout [Double], rows: Int, columns: Int) {
        for _ in 0..<2 {
            for c in 0..<columns {
                for p in 0..<c {
                    var dot = 0.0
                    for i in 0..<rows { dot += q[i * columns + c] * q[i * columns + p] }
                    for i in 0..<rows { q[i * columns + c] -= dot * q[i * columns + p] }
                }
                var norm = 0.0
                for i in 0..<rows { norm += q[i * columns + c] * q[i * columns + c] }
                let scale = norm > 1e-24 ? 1 / norm.squareRoot() : 0
                for i in 0..<rows { q[i * columns + c] *= scale }
            }
        }
    }

    /// The argmax of h·Wᵀ for each of `rows` states, or nil for a row the full product must
    /// decide. Scratch: `coordinates` rows·rank floats, `reconstruction` rows·width and
    /// `scores` rows·vocabulary.
    static func mostLikely(_ states: UnsafePointer<Float>, rows: Int, width d: Int, vocabulary v: Int, basis: Basis,
                           embedding: UnsafePointer<Float>, coordinates: UnsafeMutablePointer<Float>,
                           reconstruction: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>) -> [Int?] {
        let k = basis.rank
        basis.directions.withUnsafeBufferPointer { directions in
            PlanKernels.product(states, rows: rows, inputs: d, weight: directions.baseAddress!, outputs: k, bias: nil, into: coordinates)
        }
        basis.directionsTransposed.withUnsafeBufferPointer { transposed in
            PlanKernels.product(coordinates, rows: rows, inputs: k, weight: transposed.baseAddress!, outputs: d, bias: nil,
                                into: reconstruction)
        }
        basis.projectedWeights.withUnsafeBufferPointer { projected in
            PlanKernels.product(coordinates, rows: rows, inputs: k, weight: projected.baseAddress!, outputs: v, bias: nil, into: scores)
        }
        return basis.residualNorms.withUnsafeBufferPointer { residuals in
            (0..<rows).map { row in
                choose(states + row * d, width: d, vocabulary: v, reconstruction: reconstruction + row * d, scores: scores + row * v,
                       residuals: residuals.baseAddress!, embedding: embedding)
            }
        }
    }

    private static func choose(_ h: UnsafePointer<Float>, width d: Int, vocabulary v: Int, reconstruction: UnsafePointer<Float>,
                               scores: UnsafePointer<Float>, residuals: UnsafePointer<Float>, embedding: UnsafePointer<Float>) -> Int? {
        // ‖h − QQᵀh‖, computed as the difference itself (no cancellation of two large squares),
        // rounded up by far more than the Float reconstruction's own error.
        var rest = 0.0, length = 0.0
        for i in 0..<d {
            let e = Double(h[i]) - Double(reconstruction[i])
            rest += e * e
            length += Double(h[i]) * Double(h[i])
        }
        let perpendicular = Float(rest.squareRoot() + 1e-6 * length.squareRoot())
        func exact(_ token: Int) -> Double {
            var dot = 0.0
            let w = embedding + token * d
            for i in 0..<d { dot += Double(h[i]) * Double(w[i]) }
            return dot
        }
        // The leader: the first token of the largest cheap score (its exact logit sets the bar).
        let leader = PlanKernels.firstMaximum(scores, count: v)
        // Every token that could reach the leader's exact logit, less the margin, is computed.
        // The cheap scores' own rounding is far below the margin added.
        let threshold = Float(exact(leader)) - tieMargin - 1e-3
        var best = (token: -1, logit: -Double.infinity), second = -Double.infinity
        let inReach = withUnsafeTemporaryAllocation(of: Int32.self, capacity: maximumCandidates) { found -> Bool in
            let count = Int(radstream_within_reach(scores, residuals, perpendicular, threshold, Int32(v), found.baseAddress!,
                                                   Int32(maximumCandidates), ProcessorFeatures.avx512 ? 1 : 0))
            guard count <= maximumCandidates else { return false }
            for j in found.prefix(count).map(Int.init) {
                let logit = exact(j)
                if logit > best.logit {
                    second = best.logit
                    best = (j, logit)
                } else if logit > second {
                    second = logit
                }
            }
            return true
        }
        guard inReach else { return nil }
        guard best.token >= 0, best.logit - second >= Double(tieMargin) else { return nil }
        return best.token
    }
}
