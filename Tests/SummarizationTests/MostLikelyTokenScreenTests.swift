import CVectorMath
import Testing
import TensorEngine
@testable import Summarization

/// The screen that finds greedy decoding's next token without every logit: what it decides is
/// the argmax, and what it cannot be sure of (ties, too many tokens in reach) it leaves undecided.
@Suite("Most-likely-token screen")
struct MostLikelyTokenScreenTests {
    static let (width, vocabulary) = (32, 300)

    /// Output weights and states that, like a decoder's, lie mostly in a few directions.
    static func lowRank(_ count: Int, rank: Int, noise: Float, generator: inout SeededGenerator, mixing: [Float]) -> [Float] {
        (0..<count).flatMap { _ -> [Float] in
            let factors = (0..<rank).map { _ in Float(generator.unit()) * 2 - 1 }
            return (0..<width).map { j in
                (0..<rank).reduce(Float(0)) { $0 + factors[$1] * mixing[$1 * width + j] } * 3 + (Float(generator.unit()) - 0.5) * noise
            }
        }
    }

    static func argmax(_ state: ArraySlice<Float>, _ embedding: [Float]) -> (token: Int, margin: Double) {
        let logits = (0..<vocabulary).map { token in
            zip(state, embedding[(token * width)..<((token + 1) * width)]).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let order = logits.indices.sorted { logits[$0] > logits[$1] }
        return (order[0], logits[order[0]] - logits[order[1]])
    }

    func decide(_ states: [Float], basis: MostLikelyTokenScreen.Basis, embedding: [Float]) -> [Int?] {
        let rows = states.count / Self.width
        var coordinates = [Float](repeating: 0, count: rows * basis.rank), reconstruction = [Float](repeating: 0, count: states.count)
        var scores = [Float](repeating: 0, count: rows * Self.vocabulary)
        return states.withUnsafeBufferPointer { states in
            embedding.withUnsafeBufferPointer { embedding in
                MostLikelyTokenScreen.mostLikely(states.baseAddress!, rows: rows, width: Self.width, vocabulary: Self.vocabulary, basis: basis,
                                                embedding: embedding.baseAddress!, coordinates: &coordinates, reconstruction: &reconstruction,
                                                scores: &scores)
            }
        }
    }

    @Test func whatItDecidesIsTheArgmaxOfEveryLogit() {
        var generator = SeededGenerator(seed: 3)
        let mixing = (0..<(6 * Self.width)).map { _ in Float(generator.unit()) - 0.5 }
        let embedding = Self.lowRank(Self.vocabulary, rank: 6, noise: 0.2, generator: &generator, mixing: mixing)
        let sample = Self.lowRank(400, rank: 6, noise: 0.2, generator: &generator, mixing: mixing)
        let basis = MostLikelyTokenScreen.basis(of: sample, width: Self.width, rank: 8, embedding: embedding, vocabulary: Self.vocabulary)
        // The basis is orthonormal, and the residuals are what the embedding leaves outside it.
        for r in 0..<8 {
            let norm = (0..<Self.width).reduce(0.0) { $0 + Double(basis.directions[$1 * 8 + r] * basis.directions[$1 * 8 + r]) }
            #expect(abs(norm - 1) < 1e-5)
        }
        let states = Self.lowRank(300, rank: 6, noise: 0.2, generator: &generator, mixing: mixing)
        let decided = decide(states, basis: basis, embedding: embedding)
        for (row, token) in decided.enumerated() {
            let truth = Self.argmax(states[(row * Self.width)..<((row + 1) * Self.width)], embedding)
            if let token { #expect(token == truth.token, "row \(row)") }
            // Only a near tie may be left to the full product here: the states lie in the basis.
            if token == nil { #expect(truth.margin < 0.05, "row \(row) undecided at margin \(truth.margin)") }
        }
        #expect(decided.count { $0 != nil } > 250, "the screen decides most rows")
    }

    @Test func aTieOrTooManyTokensInReachIsLeftToTheFullProduct() {
        var generator = SeededGenerator(seed: 5)
        let mixing = (0..<(6 * Self.width)).map { _ in Float(generator.unit()) - 0.5 }
        var embedding = Self.lowRank(Self.vocabulary, rank: 6, noise: 0.2, generator: &generator, mixing: mixing)
        let sample = Self.lowRank(400, rank: 6, noise: 0.2, generator: &generator, mixing: mixing)
        let state = Array(sample.prefix(Self.width))
        // Two tokens with the same weights, both the argmax of this state: a tie.
        let winner = Self.argmax(state[...], embedding).token, twin = (winner + 1) % Self.vocabulary
        for j in 0..<Self.width { embedding[twin * Self.width + j] = embedding[winner * Self.width + j] }
        var basis = MostLikelyTokenScreen.basis(of: sample, width: Self.width, rank: 8, embedding: embedding, vocabulary: Self.vocabulary)
        #expect(decide(state, basis: basis, embedding: embedding) == [nil])
        // A state wholly outside the basis: every token is within its bound's reach.
        let outside = (0..<Self.width).map { j in Float(generator.unit()) - 0.5 + Float(j % 2) }
        var projected = outside
        for r in 0..<8 {
            let along = (0..<Self.width).reduce(Float(0)) { $0 + outside[$1] * basis.directions[$1 * 8 + r] }
            for j in 0..<Self.width { projected[j] -= along * basis.directions[j * 8 + r] }
        }
        basis = MostLikelyTokenScreen.Basis(rank: basis.rank, directions: basis.directions, directionsTransposed: basis.directionsTransposed,
                                            projectedWeights: basis.projectedWeights,
                                            residualNorms: basis.residualNorms.map { _ in 100 })
        #expect(decide(projected, basis: basis, embedding: embedding) == [nil])
    }

    @Test func theBasisComesFromTheFirstStatesOffered() {
        let screen = MostLikelyTokenScreen(width: Self.width, vocabulary: Self.vocabulary, rank: 4, sampleCount: 10)
        var generator = SeededGenerator(seed: 9)
        let embedding = (0..<(Self.width * Self.vocabulary)).map { _ in Float(generator.unit()) }
        let states = (0..<(6 * Self.width)).map { _ in Float(generator.unit()) }
        states.withUnsafeBufferPointer { screen.offer($0.baseAddress!, rows: 6, embedding: embedding) }
        #expect(screen.basis == nil, "six of ten states")
        states.withUnsafeBufferPointer { screen.offer($0.baseAddress!, rows: 6, embedding: embedding) }
        #expect(screen.basis?.rank == 4)
    }

    /// The scans in C, on both builds that run here: the first of equal maxima, and the tokens in
    /// reach in order, cut off past the room given.
    @Test(arguments: [false, true]) func theScansFindTheFirstMaximumAndEveryTokenInReach(avx512: Bool) {
        guard !avx512 || ProcessorFeatures.avx512 else { return }
        let flag: Int32 = avx512 ? 1 : 0
        for count in [1, 15, 16, 17, 40, 1193] {
            var generator = SeededGenerator(seed: UInt64(count))
            var values = (0..<count).map { _ in Float(generator.unit()) * 10 - 5 }
            let top = count / 2
            values[top] = 9
            if count > 3 { values[count - 1] = 9 }
            #expect(Int(radstream_first_maximum(values, Int32(count), flag)) == top, "\(count) values")
            let residuals = (0..<count).map { _ in Float(generator.unit()) }
            let reach = (0..<count).filter { values[$0] + residuals[$0] * 2 >= 6 }
            var found = [Int32](repeating: -1, count: 64)
            let n = Int(radstream_within_reach(values, residuals, 2, 6, Int32(count), &found, 64, flag))
            #expect(n == reach.count && found.prefix(n).map(Int.init) == reach, "\(count) values")
            if reach.count > 2 {
                #expect(radstream_within_reach(values, residuals, 2, 6, Int32(count), &found, 2, flag) == 3, "past the room: capacity + 1")
            }
        }
    }
}
