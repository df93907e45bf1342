import Foundation
import Reports
import TensorEngine

public struct SummarizerTrainingOptions: Codable, Sendable, Equatable {
    public var epochs = 30
    public var batchSize = 32
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 0.01
    public var warmupSteps = 200
    public var dropout: Float = 0.1
    /// Share of FINDINGS words replaced by `<unk>` in training, so that the model cannot lean on
    /// any single word of a report.
    public var wordDropout: Float = 0
    public var labelSmoothing: Float = 0
    public var gradientClip: Float = 1
    public var seed: UInt64 = 1
    /// Training occurrences a word needs to enter the vocabulary.
    public var minimumWordCount = 2
    public var width = 128
    public var heads = 4
    public var layers = 2
    public var feedForward = 256
    /// FINDINGS tokens read (longer ones are cut: 189 is the longest IU training report's).
    public var maximumSourceLength = 200
    /// IMPRESSION tokens learned and generated.
    public var maximumOutputLength = 60

    public init() {}
}

/// Where training stands, after each epoch.
public struct SummarizerProgress: Sendable {
    public let epoch: Int
    public let epochs: Int
    public let trainingLoss: Double
    /// Greedy ROUGE-L on the validation reports (nil without them).
    public let validationRougeL: Double?
    public let isBest: Bool
    public let elapsedSeconds: Double
    public var remainingSeconds: Double { elapsedSeconds / Double(epoch) * Double(epochs - epoch) }
}

/// Trains the summarizer transformer on FINDINGS → IMPRESSION pairs: a vocabulary from the
/// training text, AdamW with warm-up and cosine decay, dropout, gradient clipping, batches of
/// similar length (seeded), and — when validation reports are given — the epoch with the best
/// greedy ROUGE-L on them kept.
public struct SummarizerTrainer {
    public var options: SummarizerTrainingOptions

    public init(options: SummarizerTrainingOptions) { self.options = options }

    public func train(training: [FindingsImpressionPair], validation: [FindingsImpressionPair] = [],
                      progress: (SummarizerProgress) -> Void = { _ in }) throws -> Summarizer {
        precondition(!training.isEmpty, "no training reports")
        let start = ContinuousClock.now
        let vocabulary = ReportVocabulary(building: training.flatMap { [$0.findings, $0.impression] }, minimumCount: options.minimumWordCount)
        let configuration = SummarizerTransformer.Configuration(
            vocabularySize: vocabulary.count, width: options.width, heads: options.heads, encoderLayers: options.layers,
            decoderLayers: options.layers, feedForward: options.feedForward,
            maximumLength: max(options.maximumSourceLength, options.maximumOutputLength + 1))
        let model = SummarizerTransformer(configuration: configuration, seed: options.seed)
        let settings = Summarizer.Settings(maximumSourceLength: options.maximumSourceLength, maximumOutputLength: options.maximumOutputLength)
        let examples = training.map { pair in
            (source: Summarizer.source(pair.findings, vocabulary: vocabulary, settings: settings),
             target: [ReportVocabulary.beginning] + vocabulary.encode(pair.impression).prefix(options.maximumOutputLength) + [ReportVocabulary.end])
        }.filter { !$0.source.isEmpty }
        let parameters = model.parameters.keys.sorted().map { model.parameters[$0]! }
        var optimizer = AdamW(parameters: parameters, learningRate: options.learningRate, weightDecay: options.weightDecay)
        let batchSize = min(options.batchSize, examples.count)
        let stepsPerEpoch = (examples.count + batchSize - 1) / batchSize
        let schedule = CosineSchedule(peak: options.learningRate, warmupSteps: min(options.warmupSteps, stepsPerEpoch * options.epochs / 2),
                                      totalSteps: stepsPerEpoch * options.epochs)
        var generator = SeededGenerator(seed: options.seed &+ 1)
        let dropout = Dropout(rate: options.dropout, seed: options.seed &+ 2)
        var best: (rougeL: Double, epoch: Int, weights: [String: [Float]])? = nil
        var step = 0

        for epoch in 1...options.epochs {
            var lossSum = 0.0
            for batch in Self.lengthBuckets(examples.map(\.source.count), batchSize: batchSize, using: &generator) {
                optimizer.learningRate = schedule.rate(at: step)
                let sources = batch.map { examples[$0].source.map { id in
                    options.wordDropout > 0 && generator.unit() < options.wordDropout ? ReportVocabulary.unknown : id
                } }
                let loss = model.loss(sources: SummarizerTransformer.padded(sources),
                                      targets: SummarizerTransformer.padded(batch.map { examples[$0].target }), dropout: dropout,
                                      labelSmoothing: options.labelSmoothing)
                lossSum += Double(loss.item)
                loss.backward()
                optimizer.clipGradients(maxNorm: options.gradientClip)
                optimizer.step()
                step += 1
            }
            var rougeL: Double? = nil
            if !validation.isEmpty {
                let summarizer = Summarizer(model: model.frozen(), vocabulary: vocabulary, settings: settings)
                let generated = summarizer.summarize(validation.map(\.findings))
                rougeL = Rouge.mean(zip(validation, generated).map { Rouge.scores(reference: $0.impression, prediction: $1 ?? "") }).rougeL
            }
            let isBest = rougeL.map { best == nil || $0 > best!.rougeL } ?? true
            if isBest { best = (rougeL ?? 0, epoch, model.parameters.mapValues(\.data)) }
            progress(SummarizerProgress(epoch: epoch, epochs: options.epochs, trainingLoss: lossSum / Double(stepsPerEpoch),
                                        validationRougeL: rougeL, isBest: isBest,
                                        elapsedSeconds: Double((ContinuousClock.now - start).components.seconds)))
        }
        for (name, data) in best!.weights { model.parameters[name]!.data = data }
        var summarizer = Summarizer(model: model.frozen(), vocabulary: vocabulary, settings: settings, bestEpoch: best!.epoch)
        try summarizer.stampVersion()
        return summarizer
    }

    /// Batches of indices whose lengths are close (less padding), in a seeded random order: the
    /// indices are shuffled, cut into pools of 16 batches, each pool sorted by length and cut
    /// into batches, and the batches shuffled.
    static func lengthBuckets(_ lengths: [Int], batchSize: Int, using generator: inout SeededGenerator) -> [[Int]] {
        var order = Array(lengths.indices)
        order.shuffle(using: &generator)
        var batches: [[Int]] = []
        for poolStart in stride(from: 0, to: order.count, by: batchSize * 16) {
            let pool = order[poolStart..<min(order.count, poolStart + batchSize * 16)].sorted { lengths[$0] < lengths[$1] }
            for batchStart in stride(from: 0, to: pool.count, by: batchSize) {
                batches.append(Array(pool[(pool.startIndex + batchStart)..<min(pool.endIndex, pool.startIndex + batchStart + batchSize)]))
            }
        }
        batches.shuffle(using: &generator)
        return batches
    }
}
