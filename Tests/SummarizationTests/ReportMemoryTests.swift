import Foundation
import Reports
import TensorEngine
import TestSupport
import Testing
@testable import Summarization

@Suite("Summarizer's memory and reranker")
struct ReportMemoryTests {
    static let memory = ReportMemory(BaselineTests.training)

    @Test func neighboursAreNearestFirstAndAReportIsNeverItsOwn() {
        let nearest = Self.memory.nearest("Small right pleural effusion.", count: 3)
        #expect(nearest.first?.entry.id == "3")
        #expect(zip(nearest, nearest.dropFirst()).allSatisfy { $0.similarity >= $1.similarity })
        #expect(!Self.memory.nearest("Large right pleural effusion with atelectasis.", count: 4, excluding: "3").contains { $0.entry.id == "3" })
        // Findings sharing no word with any earlier report have no neighbour at all.
        #expect(Self.memory.nearest("Zebra.", count: 3).isEmpty)
        let identical = Self.memory.nearest(BaselineTests.training[3].findings, count: 1)
        #expect(identical.first.map { abs($0.similarity - 1) < 1e-9 } == true)
    }

    @Test func foldsPartitionTheReportsAndFoldZeroOfFiveIsTheTestSplit() {
        let ids = (1...200).map(String.init) + ["x"]
        let folds = ReportFolds(count: 5)
        var seen: [String: Int] = [:]
        for fold in 0..<5 {
            let (training, heldOut) = folds.split(ids, id: { $0 }, holdingOut: fold)
            #expect(Set(training).isDisjoint(with: heldOut) && training.count + heldOut.count == 200)
            for id in heldOut { seen[id, default: 0] += 1 }
            if fold == 0 { #expect(heldOut.allSatisfy(ReportSplit.isTest) && heldOut.count == 40) }
        }
        #expect(seen.count == 200 && seen.values.allSatisfy { $0 == 1 }, "every numbered report held out exactly once")
        #expect(folds.fold(of: "x") == nil)
    }

    /// The likelihood the reranker scores a candidate by is the one training maximises: for one
    /// pair, minus its mean per token is the training loss.
    @Test func aCandidatesLikelihoodIsTheTrainingObjective() {
        let pairs = SummarizerModelTests.pairs
        let vocabulary = ReportVocabulary(building: pairs.flatMap { [$0.findings, $0.impression] }, minimumCount: 1)
        let model = SummarizerTransformer(configuration: .init(vocabularySize: vocabulary.count, width: 16, heads: 2, encoderLayers: 1,
                                                               decoderLayers: 1, feedForward: 32, maximumLength: 32), seed: 5)
        let source = vocabulary.encode(pairs[1].findings)
        let candidates = [vocabulary.encode(pairs[1].impression), vocabulary.encode(pairs[0].impression), vocabulary.encode("No acute disease.")]
        let likelihoods = model.logLikelihoods(of: candidates, source: source)
        for (candidate, likelihood) in zip(candidates, likelihoods) {
            let loss = model.loss(sources: [source], targets: [[ReportVocabulary.beginning] + candidate + [ReportVocabulary.end]]).item
            #expect(abs(-likelihood / Float(candidate.count + 1) - loss) < 1e-4, "likelihood \(likelihood), loss \(loss)")
        }
    }

    /// Made-up reports where the neighbours' vote, not the model's likelihood, tells the right
    /// conclusion: the fit learns to weigh the vote, and then prefers the reference.
    @Test func theFittedRerankerPrefersTheReferenceWhenTheEvidenceSaysSo() {
        func features(likelihood: Double, vote: Double, fromModel: Bool) -> CandidateFeatures {
            var features = CandidateFeatures()
            features.meanLogLikelihood = likelihood
            features.neighbourVote = vote
            features.nearestSimilarity = vote > 0 ? 0.8 : 0
            features.fromModel = fromModel ? 1 : 0
            return features
        }
        // Each report: the model's own (likely, but wrong) and an earlier report's (the reference).
        let examples = (0..<20).map { i in
            SummaryReranker.Example(features: [features(likelihood: -0.5, vote: 0.1, fromModel: true),
                                               features(likelihood: -0.9 - Double(i) / 100, vote: 0.7, fromModel: false)],
                                    rougeL: [0.3, 1.0])
        }
        #expect(abs(SummaryReranker.likelihoodOnly(neighbours: 5).meanRougeL(examples) - 0.3) < 1e-9)
        let reranker = SummaryReranker.fit(examples, neighbours: 5)
        #expect(abs(reranker.meanRougeL(examples) - 1) < 1e-9)
        let unseen = [features(likelihood: -0.4, vote: 0.05, fromModel: true), features(likelihood: -1.2, vote: 0.8, fromModel: false)]
        #expect(reranker.choose(unseen) == 1)
    }

    /// The shipped summarizer with a memory of made-up earlier reports: its candidates are its own
    /// impression and each distinct earlier conclusion, and a report is not its own neighbour.
    @Test func candidatesAreTheModelsOwnAndTheNeighboursConclusions() throws {
        let summarizer = try Summarizer(contentsOf: ShippedSummarizerTests.folder)
        let memory = ReportMemory([
            .init(id: "a", findings: "Large right pleural effusion. Heart size normal.", impression: "Large right pleural effusion."),
            .init(id: "b", findings: "Large right pleural effusion.", impression: "Right pleural effusion, large."),
            .init(id: "c", findings: "The lungs are clear. Heart size normal.", impression: "No acute cardiopulmonary abnormality."),
            .init(id: "d", findings: "Lungs are clear. Heart size is normal.", impression: "No acute cardiopulmonary abnormality"),
        ])
        let findings = "Large right pleural effusion. Heart size normal."
        let candidates = summarizer.candidates([findings, ""], excluding: ["a", nil], memory: memory, neighbours: 4, decoding: .greedy)
        #expect(candidates[1].isEmpty, "findings without a word to read have no candidates")
        let texts = candidates[0].map(\.text)
        #expect(candidates[0].first?.features.fromModel == 1)
        #expect(!texts.contains("Large right pleural effusion.") || candidates[0].first { $0.text == "Large right pleural effusion." }?.features.fromModel == 1,
                "report a's own impression is never offered as a neighbour's")
        #expect(texts.contains("Right pleural effusion, large."))
        // Two neighbours saying the same in other punctuation are one candidate.
        #expect(texts.filter { Rouge.tokens($0) == Rouge.tokens("No acute cardiopulmonary abnormality") }.count <= 1)
        #expect(candidates[0].allSatisfy { $0.features.meanLogLikelihood < 0 && (0...1).contains($0.features.neighbourVote) })
        let votes = candidates[0].reduce(0) { $0 + $1.features.neighbourVote }
        #expect(abs(votes - 1) < 1e-9, "the neighbours' votes are shared among the candidates: \(votes)")
    }
}
