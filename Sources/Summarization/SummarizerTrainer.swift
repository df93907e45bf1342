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
    /// Epochs of denoising (`DenoisingPretraining`) on the training reports' sentences before
    /// FINDINGS → IMPRESSION; 0 for none.
    public var pretrainingEpochs = 0
    /// Share of a passage's tokens cut out in denoising.
    public var pretrainingMaskRate: Float = 0.3

    public init() {}

    /// Options as a manifest records them; the keys added since (denoising) take their defaults,
    /// so that older manifests still read.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try c.decode(Int.self, forKey: .epochs)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        weightDecay = try c.decode(Float.self, forKey: .weightDecay)
        warmupSteps = try c.decode(Int.self, forKey: .warmupSteps)
        dropout = try c.decode(Float.self, forKey: .dropout)
        wordDropout = try c.decode(Float.self, forKey: .wordDropout)
        labelSmoothing = try c.decode(Float.self, forKey: .labelSmoothing)
        gradientClip = try c.decode(Float.self, forKey: .gradientClip)
        seed = try c.decode(UInt64.self, forKey: .seed)
        minimumWordCount = try c.decode(Int.self, forKey: .minimumWordCount)
        width = try c.decode(Int.self, forKey: .width)
        heads = try c.decode(Int.self, forKey: .heads)
        layers = try c.decode(Int.self, forKey: .layers)
        feedForward = try c.decode(Int.self, forKey: .feedForward)
        maximumSourceLength = try c.decode(Int.self, forKey: .maximumSourceLength)
        maximumOutputLength = try c.decode(Int.self, forKey: .maximumOutputLength)
        pretrainingEpochs = try c.decodeIfPresent(Int.self, forKey: .pretrainingEpochs) ?? 0
        pretrainingMaskRate = try c.decodeIfPresent(Float.self, forKey: .pretrainingMaskRate) ?? 0.3
    }
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
    /// An epoch of denoising before the summarizing ones (`epoch` counts those apart).
    public var isPretraining = false
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
        var generator = SeededGenerator(seed: options.seed &+ 1)
        let dropout = Dropout(rate: options.dropout, seed: options.seed &+ 2)
        if options.pretrainingEpochs > 0 {
            let passages = DenoisingPretraining.passages(training.flatMap { [$0.findings, $0.impression] }, vocabulary: vocabulary,
                                                         maximumLength: options.maximumOutputLength)
            var denoising = SeededGenerator(seed: options.seed &+ 3)
            runEpochs(model, parameters, epochs: options.pretrainingEpochs, lengths: passages.map(\.count), dropout: dropout,
                          generator: &denoising, start: start) { batch, generator in
                (batch.map { DenoisingPretraining.corrupted(passages[$0], rate: options.pretrainingMaskRate, using: &generator) },
                 batch.map { [ReportVocabulary.beginning] + passages[$0] + [ReportVocabulary.end] })
            } progress: { epoch, loss, seconds in
                progress(SummarizerProgress(epoch: epoch, epochs: options.pretrainingEpochs, trainingLoss: loss, validationRougeL: nil,
                                            isBest: false, elapsedSeconds: seconds, isPretraining: true))
            }
        }
        var best: (rougeL: Double, epoch: Int, weights: [String: [Float]])? = nil
        runEpochs(model, parameters, epochs: options.epochs, lengths: examples.map(\.source.count), dropout: dropout,
                      generator: &generator, start: start) { batch, generator in
            (batch.map { examples[$0].source.map { id in
                options.wordDropout > 0 && generator.unit() < options.wordDropout ? ReportVocabulary.unknown : id
            } }, batch.map { examples[$0].target })
        } progress: { epoch, loss, seconds in
            var rougeL: Double? = nil
            if !validation.isEmpty {
                let summarizer = Summarizer(model: model.frozen(), vocabulary: vocabulary, settings: settings)
                let generated = summarizer.summarize(validation.map(\.findings))
                rougeL = Rouge.mean(zip(validation, generated).map { Rouge.scores(reference: $0.impression, prediction: $1 ?? "") }).rougeL
            }
            let isBest = rougeL.map { best == nil || $0 > best!.rougeL } ?? true
            if isBest { best = (rougeL ?? 0, epoch, model.parameters.mapValues(\.data)) }
            progress(SummarizerProgress(epoch: epoch, epochs: options.epochs, trainingLoss: loss, validationRougeL: rougeL,
                                        isBest: isBest, elapsedSeconds: seconds))
        }
        for (name, data) in best!.weights { model.parameters[name]!.data = data }
        var summarizer = Summarizer(model: model.frozen(), vocabulary: vocabulary, settings: settings, bestEpoch: best!.epoch)
        try summarizer.stampVersion()
        return summarizer
    }

    /// `epochs` passes over examples of these lengths with AdamW (fresh moments), warm-up and
    /// cosine decay, dropout and clipping; `batch` gives a batch's sources and targets (unpadded; the
    /// generator that shuffles the batches is its randomness too), `progress` each epoch's mean
    /// loss and the seconds since `start`.
    private func runEpochs(_ model: SummarizerTransformer, _ parameters: [Tensor], epochs: Int, lengths: [Int], dropout: Dropout,
                           generator: inout SeededGenerator, start: ContinuousClock.Instant,
                           batch: (_ indices: [Int], _ generator: inout SeededGenerator) -> (sources: [[Int]], targets: [[Int]]),
                           progress: (_ epoch: Int, _ loss: Double, _ seconds: Double) -> Void) {
        var optimizer = AdamW(parameters: parameters, learningRate: options.learningRate, weightDecay: options.weightDecay)
        let batchSize = min(options.batchSize, lengths.count)
        let stepsPerEpoch = (lengths.count + batchSize - 1) / batchSize
        let schedule = CosineSchedule(peak: options.learningRate, warmupSteps: min(options.warmupSteps, stepsPerEpoch * epochs / 2),
                                      totalSteps: stepsPerEpoch * epochs)
        var step = 0
        for epoch in 1...epochs {
            var lossSum = 0.0
            for indices in Self.lengthBuckets(lengths, batchSize: batchSize, using: &generator) {
                optimizer.learningRate = schedule.rate(at: step)
                let (sources, targets) = batch(indices, &generator)
                let loss = model.loss(sources: SummarizerTransformer.padded(sources), targets: SummarizerTransformer.padded(targets),
                                      dropout: dropout, labelSmoothing: options.labelSmoothing)
                lossSum += Double(loss.item)
                loss.backward()
                optimizer.clipGradients(maxNorm: options.gradientClip)
                optimizer.step()
                step += 1
            }
            progress(epoch, lossSum / Double(stepsPerEpoch), Double((ContinuousClock.now - start).components.seconds))
        }
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
