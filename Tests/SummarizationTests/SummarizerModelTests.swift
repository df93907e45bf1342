import Foundation
import Reports
import TensorEngine
import Testing
@testable import Summarization

@Suite("Summarizer model")
struct SummarizerModelTests {
    /// Made-up reports in the IU style whose impressions reuse words of their findings (the side,
    /// the lobe), so that copying pays.
    static let pairs: [FindingsImpressionPair] = {
        var pairs: [FindingsImpressionPair] = []
        for (i, side) in ["right", "left"].enumerated() {
            for (j, lobe) in ["upper", "lower"].enumerated() {
                pairs.append(.init(reportID: "\(10 * i + j)", findings: "There is \(side) \(lobe) lobe airspace disease. Heart size is normal.",
                                   impression: "\(side.capitalized) \(lobe) lobe pneumonia."))
                pairs.append(.init(reportID: "\(10 * i + j + 2)", findings: "Small \(side) pleural effusion. The \(lobe) lungs are otherwise clear.",
                                   impression: "\(side.capitalized) pleural effusion."))
            }
        }
        pairs.append(.init(reportID: "30", findings: "The lungs are clear. Heart size is normal. No pneumothorax.",
                           impression: "No acute cardiopulmonary disease."))
        return pairs
    }()

    static var tinyOptions: SummarizerTrainingOptions {
        var options = SummarizerTrainingOptions()
        options.width = 32
        options.heads = 2
        options.layers = 1
        options.feedForward = 64
        options.minimumWordCount = 1
        options.batchSize = 4
        options.warmupSteps = 5
        options.learningRate = 3e-3
        options.dropout = 0
        return options
    }

    /// The next-token distributions decoding uses sum to one, and the training loss, which forms
    /// only each target's probability, is their mean negative log-likelihood.
    @Test func theLossIsTheNegativeLogLikelihoodOfTheDecodingDistribution() {
        let vocabulary = ReportVocabulary(building: Self.pairs.flatMap { [$0.findings, $0.impression] }, minimumCount: 1)
        let model = SummarizerTransformer(configuration: .init(vocabularySize: vocabulary.count, width: 16, heads: 2, encoderLayers: 1,
                                                               decoderLayers: 1, feedForward: 32, maximumLength: 32), seed: 3)
        let sources = SummarizerTransformer.padded([vocabulary.encode(Self.pairs[0].findings), vocabulary.encode(Self.pairs[8].findings)])
        // The second target is one token shorter: its last position is padding and does not count.
        let targets = [[2] + vocabulary.encode(Self.pairs[0].impression) + [3], [2] + vocabulary.encode("No acute disease.") + [3, 0]]
        let loss = model.loss(sources: sources, targets: targets).item

        let memory = model.encode(sources)
        let inputs = targets.map { Array($0.dropLast()) }
        let output = model.decode(inputs, memory: memory)
        var total = 0.0, count = 0
        for position in 0..<inputs[0].count {
            let distributions = model.nextTokenDistribution(output, lastPositions: [position, position], memory: memory)
            for (row, distribution) in distributions.enumerated() {
                #expect(abs(distribution.reduce(0, +) - 1) < 1e-4)
                let target = targets[row][position + 1]
                guard target != ReportVocabulary.padding else { continue }
                total -= Foundation.log(Double(distribution[target]))
                count += 1
            }
        }
        #expect(count == targets[0].count - 1 + targets[1].count - 2)
        #expect(abs(Double(loss) - total / Double(count)) < 1e-4, "loss \(loss), from the distributions \(total / Double(count))")
    }

    /// Decoding one token per step with the cache gives the distributions of the decoder run over
    /// the whole prefix, also after rows are dropped and reordered (as a beam does).
    @Test func theCachedStepMatchesTheWholePrefix() {
        let vocabulary = ReportVocabulary(building: Self.pairs.flatMap { [$0.findings, $0.impression] }, minimumCount: 1)
        let model = SummarizerTransformer(configuration: .init(vocabularySize: vocabulary.count, width: 16, heads: 2, encoderLayers: 1,
                                                               decoderLayers: 2, feedForward: 32, maximumLength: 32), seed: 5)
        let sources = SummarizerTransformer.padded([vocabulary.encode(Self.pairs[0].findings), vocabulary.encode(Self.pairs[8].findings)])
        let prefixes = [[2] + vocabulary.encode("right upper lobe pneumonia ."), [2] + vocabulary.encode("no acute cardiopulmonary disease .")]
        let memory = model.encode(sources)
        let whole = model.decode(prefixes, memory: memory)
        var cache = DecoderCache(model: model, memory: memory)
        for position in 0..<prefixes[0].count {
            let stepped = model.step(prefixes.map { $0[position] }, cache: &cache)
            let expected = model.nextTokenDistribution(whole, lastPositions: [position, position], memory: memory)
            for row in 0..<2 { #expect(zip(stepped[row], expected[row]).allSatisfy { abs($0 - $1) < 1e-5 }, "position \(position)") }
        }
        // The second row alone, twice: each copy goes on as the second row would.
        var swapped = cache.selecting([1, 1])
        let alone = model.step([5, 5], cache: &swapped)
        var both = cache
        let together = model.step([5, 5], cache: &both)
        #expect(zip(alone[0], together[1]).allSatisfy { abs($0 - $1) < 1e-5 } && alone[0] == alone[1])
    }

    @Test func aFewTrainingStepsLowerTheLossAndTheModelLearnsItsReports() throws {
        var options = Self.tinyOptions
        options.epochs = 40
        var losses: [Double] = []
        let summarizer = try SummarizerTrainer(options: options).train(training: Self.pairs) { losses.append($0.trainingLoss) }
        #expect(losses.last! < losses.first! / 4, "losses \(losses)")
        let generated = summarizer.summarize(Self.pairs.map(\.findings))
        let rougeL = Rouge.mean(zip(Self.pairs, generated).map { Rouge.scores(reference: $0.impression, prediction: $1 ?? "") }).rougeL
        #expect(rougeL > 0.9, "\(generated)")
        // Beam search finds at least as likely an output as greedy on what the model has learnt.
        let beam = summarizer.summarize(Self.pairs.map(\.findings), decoding: .beam(width: 3))
        let beamRougeL = Rouge.mean(zip(Self.pairs, beam).map { Rouge.scores(reference: $0.impression, prediction: $1 ?? "") }).rougeL
        #expect(beamRougeL > 0.9, "\(beam)")
        // Minimum Bayes risk decoding is seeded by the report: the same report, the same impression.
        let mbr = summarizer.summarize(Self.pairs.map(\.findings), decoding: .minimumBayesRisk(samples: 6))
        #expect(mbr == summarizer.summarize(Self.pairs.reversed().map(\.findings), decoding: .minimumBayesRisk(samples: 6)).reversed())
        let mbrRougeL = Rouge.mean(zip(Self.pairs, mbr).map { Rouge.scores(reference: $0.impression, prediction: $1 ?? "") }).rougeL
        #expect(mbrRougeL > 0.9, "\(mbr)")
    }

    @Test func minimumBayesRiskChoosesTheConsensus() {
        let candidates = ["Right pleural effusion.", "No acute disease.", "Small right pleural effusion.", "Right pleural effusions."]
        #expect(Summarizer.minimumBayesRisk(candidates) == 0)
        #expect(Summarizer.minimumBayesRisk(["only one"]) == 0 && Summarizer.minimumBayesRisk([]) == nil)
    }

    @Test func trainingIsSeededAndTheCheckpointRoundTrips() throws {
        var options = Self.tinyOptions
        options.epochs = 3
        let first = try SummarizerTrainer(options: options).train(training: Self.pairs)
        let second = try SummarizerTrainer(options: options).train(training: Self.pairs)
        #expect(first.version == second.version)
        let folder = FileManager.default.temporaryDirectory.appending(path: "summarizer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try first.save(to: folder)
        let loaded = try Summarizer(contentsOf: folder)
        #expect(loaded.vocabulary == first.vocabulary && loaded.settings == first.settings)
        let findings = Self.pairs.map(\.findings)
        #expect(loaded.summarize(findings) == first.summarize(findings))

        // A vocabulary that does not fit the weights is refused.
        try "<pad>\n<unk>\n<bos>\n<eos>\n".write(to: folder.appending(path: Summarizer.vocabularyFileName), atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try Summarizer(contentsOf: folder) }
    }

    @Test func findingsWithoutAWordGetNoImpression() throws {
        var options = Self.tinyOptions
        options.epochs = 1
        let summarizer = try SummarizerTrainer(options: options).train(training: Self.pairs)
        let generated = summarizer.summarize(["", "   ", Self.pairs[0].findings])
        #expect(generated[0] == nil && generated[1] == nil && generated[2] != nil)
    }

    @Test func lengthBucketsCoverEveryExampleOnce() {
        var generator = SeededGenerator(seed: 1)
        let lengths = (0..<100).map { ($0 * 37) % 50 }
        let batches = SummarizerTrainer.lengthBuckets(lengths, batchSize: 8, using: &generator)
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<100))
        #expect(batches.allSatisfy { $0.count <= 8 })
    }
}
