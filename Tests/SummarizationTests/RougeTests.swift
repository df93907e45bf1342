import Foundation
import Testing
@testable import Summarization

@Suite("ROUGE as rouge-score computes it")
struct RougeTests {
    struct Golden: Decodable {
        struct Pair: Decodable { let reference: String, prediction: String, rouge1: Double, rouge2: Double, rougeL: Double }
        let stems: [String: String]
        let pairs: [Pair]
    }

    static let golden: Golden = {
        let url = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "Fixtures/rouge_golden.json")
        return try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }()

    /// NLTK's Porter stems (written by scripts/make_rouge_fixtures.py), word for word.
    @Test func stemsAreNLTKs() {
        let wrong = Self.golden.stems.filter { PorterStemmer.stem($0.key) != $0.value }
            .map { "\($0.key): \(PorterStemmer.stem($0.key)) ≠ \($0.value)" }.sorted()
        #expect(wrong.isEmpty, "\(wrong.count) of \(Self.golden.stems.count): \(wrong.prefix(10))")
    }

    @Test func scoresAreRougeScores() {
        for pair in Self.golden.pairs {
            let scores = Rouge.scores(reference: pair.reference, prediction: pair.prediction)
            #expect(abs(scores.rouge1 - pair.rouge1) < 1e-9 && abs(scores.rouge2 - pair.rouge2) < 1e-9
                    && abs(scores.rougeL - pair.rougeL) < 1e-9, "\(pair.reference) | \(pair.prediction): \(scores)")
        }
    }

    @Test func identicalTextsScoreOne() {
        let scores = Rouge.scores(reference: "Small left pleural effusion.", prediction: "small LEFT pleural effusion")
        #expect(scores == Rouge.Scores(rouge1: 1, rouge2: 1, rougeL: 1))
    }

    /// ROUGE-L over ids that stand for the tokens is ROUGE-L over the tokens.
    @Test func longestCommonSubsequencesOverIdsAreOverTokens() {
        let texts = ["No acute cardiopulmonary abnormality.", "No acute cardiopulmonary disease.", "Small left pleural effusion, no acute disease.",
                     "", "Effusion effusion left left."].map(Rouge.tokens)
        let ids = Rouge.ids(texts)
        #expect(ids[0] == [0, 1, 2, 3] && ids[1] == [0, 1, 2, 4])
        for a in texts.indices {
            for b in texts.indices { #expect(Rouge.lcsF1(ids[a], ids[b]) == Rouge.lcsF1(texts[a], texts[b])) }
        }
    }
}
