import Foundation
import Models
import Reports
import Summarization
import TensorEngine
import Training

public struct CaptionerTrainingOptions: Codable, Sendable, Equatable {
    public var epochs = 6
    public var batchSize = 32
    public var learningRate: Float = 5e-4
    public var weightDecay: Float = 0.01
    public var dropout: Float = 0.1
    /// Weight of the distillation loss beside the cross-entropy (0: the ablation without it).
    public var distillationWeight: Float = 1
    /// Temperature of the distillation's distributions.
    public var temperature: Float = 2
    public var seed: UInt64 = 1
    /// Seed of the image–report pairing.
    public var pairingSeed: UInt64 = 1
    /// Start the decoder from the summarizer's weights (else from random ones: what distillation
    /// alone then brings of the summarizer is measurable).
    public var decoderFromSummarizer = true

    public init() {}

    /// Options as a manifest records them; a key added since (the decoder's start) takes its
    /// default, so that older manifests still read.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try container.decode(Int.self, forKey: .epochs)
        batchSize = try container.decode(Int.self, forKey: .batchSize)
        learningRate = try container.decode(Float.self, forKey: .learningRate)
        weightDecay = try container.decode(Float.self, forKey: .weightDecay)
        dropout = try container.decode(Float.self, forKey: .dropout)
        distillationWeight = try container.decode(Float.self, forKey: .distillationWeight)
        temperature = try container.decode(Float.self, forKey: .temperature)
        seed = try container.decode(UInt64.self, forKey: .seed)
        pairingSeed = try container.decode(UInt64.self, forKey: .pairingSeed)
        decoderFromSummarizer = try container.decodeIfPresent(Bool.self, forKey: .decoderFromSummarizer) ?? true
    }
}

/// Where training stands, after each epoch.
public struct CaptionerProgress: Sendable, Codable {
    public let epoch: Int
    public let crossEntropy: Double
    public let distillation: Double?
    public let elapsedSeconds: Double
}

/// Trains a captioner on image–impression pairs: the cross-entropy against the paired
/// impression and — HybridMED's summarization → captioning distillation — the KL divergence from
/// the frozen summarizer's next-token distributions, the summarizer reading the paired report's
/// FINDINGS, at each step of the same impression. The trunk is frozen, so its feature maps are
/// computed once; the image projection and the decoder (started from the summarizer's) learn.
public struct CaptionerTrainer {
    public var options: CaptionerTrainingOptions

    public init(options: CaptionerTrainingOptions) { self.options = options }

    public func train(images: LabeledImageSet, reports: [FindingsImpressionPair], trunk: ImageClassifier, summarizer: Summarizer,
                      progress: (CaptionerProgress) -> Void = { _ in }) throws -> Captioner {
        precondition(images.count == reports.count && images.count > 0, "one report per image")
        let start = ContinuousClock.now
        let student = SummarizerTransformer(configuration: summarizer.model.configuration, seed: options.seed)
        if options.decoderFromSummarizer {
            for (name, parameter) in student.parameters { parameter.data = summarizer.model.parameters[name]!.data }
        }
        let captioner = Captioner(trunk: trunk, decoder: student, vocabulary: summarizer.vocabulary,
                                  settings: .init(maximumOutputLength: summarizer.settings.maximumOutputLength,
                                                  distilled: options.distillationWeight > 0), seed: options.seed)
        // The frozen trunk's maps, once for all epochs.
        var mapShape: [Int] = []
        let features = stride(from: 0, to: images.count, by: 256).flatMap { start in
            let slice = images.images[start..<min(images.count, start + 256)].map(\.pixels)
            let maps = captioner.features(slice)
            mapShape = Array(maps.shape.dropFirst())
            let size = maps.count / slice.count
            return (0..<slice.count).map { Array(maps.data[($0 * size)..<(($0 + 1) * size)]) }
        }
        let vocabulary = summarizer.vocabulary, maximumLength = summarizer.settings.maximumOutputLength
        let targets = reports.map { [ReportVocabulary.beginning] + vocabulary.encode($0.impression).prefix(maximumLength) + [ReportVocabulary.end] }
        // The frozen teacher depends on the report alone, and many images share one: its
        // distributions are computed once per distinct report, not per image and epoch.
        let teacher = options.distillationWeight > 0 ? Self.teacherDistributions(reports, targets: targets, summarizer: summarizer) : [:]

        let trained = captioner.parameters.keys.sorted().map { captioner.parameters[$0]! }
            + student.parameters.keys.filter { !$0.hasPrefix("encoder.") }.sorted().map { student.parameters[$0]! }
        var optimizer = AdamW(parameters: trained, learningRate: options.learningRate, weightDecay: options.weightDecay)
        let batchSize = min(options.batchSize, images.count)
        let stepsPerEpoch = (images.count + batchSize - 1) / batchSize
        let schedule = CosineSchedule(peak: options.learningRate, warmupSteps: min(100, stepsPerEpoch), totalSteps: stepsPerEpoch * options.epochs)
        var generator = SeededGenerator(seed: options.seed &+ 1)
        let dropout = Dropout(rate: options.dropout, seed: options.seed &+ 2)
        var order = Array(images.images.indices)
        var step = 0
        for epoch in 1...options.epochs {
            order.shuffle(using: &generator)
            var crossEntropySum = 0.0, distillationSum = 0.0
            for batchStart in stride(from: 0, to: order.count, by: batchSize) {
                let batch = Array(order[batchStart..<min(order.count, batchStart + batchSize)])
                let maps = Tensor(shape: [batch.count] + mapShape, data: batch.flatMap { features[$0] })
                let batchTargets = SummarizerTransformer.padded(batch.map { targets[$0] })
                let batchTeacher = options.distillationWeight > 0 ? batch.flatMap { teacher[reports[$0].reportID]! } : nil
                let (crossEntropy, distillation) = student.losses(memory: captioner.memory(features: maps, dropout: dropout), targets: batchTargets,
                                                                  dropout: dropout, teacher: batchTeacher, temperature: options.temperature)
                optimizer.learningRate = schedule.rate(at: step)
                let loss = distillation.map { crossEntropy + $0 * options.distillationWeight } ?? crossEntropy
                crossEntropySum += Double(crossEntropy.item)
                distillationSum += Double(distillation?.item ?? 0)
                loss.backward()
                optimizer.clipGradients(maxNorm: 1)
                optimizer.step()
                step += 1
            }
            progress(CaptionerProgress(epoch: epoch, crossEntropy: crossEntropySum / Double(stepsPerEpoch),
                                       distillation: options.distillationWeight > 0 ? distillationSum / Double(stepsPerEpoch) : nil,
                                       elapsedSeconds: Double((ContinuousClock.now - start).components.seconds)))
        }
        captioner.settings.version = try ModelVersion.of(captioner.checkpointTensors())
        return captioner.frozen()
    }

    /// The summarizer's next-token distributions over each distinct report's impression, reading
    /// its FINDINGS: one per impression token and the end, by report id.
    static func teacherDistributions(_ reports: [FindingsImpressionPair], targets: [[Int]], summarizer: Summarizer) -> [String: [[Float]]] {
        var first: [String: Int] = [:]
        for (index, report) in reports.enumerated() where first[report.reportID] == nil { first[report.reportID] = index }
        let distinct = first.values.sorted()
        var distributions: [String: [[Float]]] = [:]
        for start in stride(from: 0, to: distinct.count, by: 32) {
            let slice = Array(distinct[start..<min(distinct.count, start + 32)])
            let sources = slice.map { Array(summarizer.vocabulary.encode(reports[$0].findings).prefix(summarizer.settings.maximumSourceLength)) }
            var rows = summarizer.model.teacherDistributions(sources: SummarizerTransformer.padded(sources),
                                                             targets: SummarizerTransformer.padded(slice.map { targets[$0] }))[...]
            for index in slice {
                let count = targets[index].count - 1
                distributions[reports[index].reportID] = Array(rows.prefix(count))
                rows = rows.dropFirst(count)
            }
        }
        return distributions
    }
}
