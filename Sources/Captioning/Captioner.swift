import Foundation
import Models
import Summarization
import TensorEngine

/// Image → IMPRESSION: the pneumonia classifier's CNN trunk reads the film, its last feature maps
/// become a sequence of positions (7×7 at 28 px), and a decoder of the summarizer's architecture
/// and vocabulary — started from the summarizer's own weights — writes the impression from them.
///
/// The trunk stays as the classifier trained it (frozen): what the decoder must learn is how the
/// radiologists word what the trunk already sees. Inference only reads the weights; the instance
/// is `@unchecked Sendable` for that reason alone.
public final class Captioner: @unchecked Sendable {
    public struct Settings: Codable, Sendable, Equatable {
        public var version = "untrained"
        public var maximumOutputLength = 60
        /// Whether it was trained with the summarizer's distillation (the ablation is not).
        public var distilled = true

        public init(version: String = "untrained", maximumOutputLength: Int = 60, distilled: Bool = true) {
            self.version = version
            self.maximumOutputLength = maximumOutputLength
            self.distilled = distilled
        }
    }

    public let trunk: ImageClassifier
    public let decoder: SummarizerTransformer
    public let vocabulary: ReportVocabulary
    public internal(set) var settings: Settings
    /// The image side of the decoder: the projection of the trunk's channels to the decoder's
    /// width, a learned position per feature-map cell, and a norm.
    public private(set) var parameters: [String: Tensor] = [:]
    /// The trunk through its allocation-free inference plan, a slice of images at a time: what
    /// captioning reads the films with (the graph's features to 1e-5, at about half the cost).
    /// Nil for a trunk the plan does not cover.
    private let trunkSession: ImageClassifier.SharedInferenceSession?
    /// Images a slice: captioned together, a slice per core.
    static let slice = 32
    /// The impressions it wrote lately, which greedy captioning drafts from: most films get one
    /// of a few (`DraftBook`).
    let drafts = DraftBook()

    public init(trunk: ImageClassifier, decoder: SummarizerTransformer, vocabulary: ReportVocabulary, settings: Settings, seed: UInt64) {
        precondition(decoder.configuration.vocabularySize == vocabulary.count, "the decoder and the vocabulary differ")
        self.trunk = trunk
        self.decoder = decoder
        self.vocabulary = vocabulary
        self.settings = settings
        trunkSession = ImageClassifier.SharedInferenceSession(classifier: trunk, batch: Self.slice)
        var generator = SeededGenerator(seed: seed)
        let (channels, width) = (trunk.network.configuration.channels.last!, decoder.configuration.width)
        let cells = Self.cells(side: trunk.settings.inputSide, stages: trunk.network.configuration.channels.count)
        let bound = (6 / Float(channels + width)).squareRoot()
        parameters["image.projection.weight"] = Tensor(shape: [channels, width], data: (0..<(channels * width)).map { _ in generator.uniform(-bound, bound) },
                                                       requiresGrad: true)
        parameters["image.projection.bias"] = Tensor.zeros([width], requiresGrad: true)
        parameters["image.position"] = Tensor(shape: [cells, width], data: (0..<(cells * width)).map { _ in generator.normal(standardDeviation: 0.02) },
                                              requiresGrad: true)
        parameters["image.norm.weight"] = Tensor(shape: [width], data: [Float](repeating: 1, count: width), requiresGrad: true)
        parameters["image.norm.bias"] = Tensor.zeros([width], requiresGrad: true)
    }

    init(trunk: ImageClassifier, decoder: SummarizerTransformer, vocabulary: ReportVocabulary, settings: Settings,
         parameters: [String: Tensor]) {
        self.trunk = trunk
        self.decoder = decoder
        self.vocabulary = vocabulary
        self.settings = settings
        self.parameters = parameters
        trunkSession = ImageClassifier.SharedInferenceSession(classifier: trunk, batch: Self.slice)
    }

    /// The same captioner with weights that record no graph: what inference runs on.
    public func frozen() -> Captioner {
        Captioner(trunk: trunk, decoder: decoder.frozen(), vocabulary: vocabulary, settings: settings,
                  parameters: parameters.mapValues { $0.detached() })
    }

    /// Feature-map cells of the trunk for a side: its first stage keeps the resolution, each
    /// later one halves it (rounding up, as a stride-2 convolution with padding 1 does).
    static func cells(side: Int, stages: Int) -> Int {
        let last = (1..<stages).reduce(side) { size, _ in (size + 1) / 2 }
        return last * last
    }

    /// The trunk's last feature maps of images (batch × channels × h × w) through the graph
    /// (records none: the trunk is frozen): what training reads, as it always has.
    public func features(_ images: [[UInt8]]) -> Tensor {
        trunk.network.features(trunk.input(images), training: false)
    }

    /// The decoder's memory of feature maps: one position per cell.
    public func memory(features: Tensor, dropout: Dropout? = nil) -> SummarizerTransformer.Memory {
        let (batch, channels, cells, width) = (features.shape[0], features.shape[1], features.shape[2] * features.shape[3], decoder.configuration.width)
        let positions = features.reshaped([batch, channels, cells]).permuted([0, 2, 1]).reshaped([batch * cells, channels])
        let projected = (positions.matmul(parameters["image.projection.weight"]!) + parameters["image.projection.bias"]!)
            .reshaped([batch, cells, width]) + parameters["image.position"]!
        let states = projected.reshaped([batch * cells, width])
            .layerNorm(scale: parameters["image.norm.weight"]!, shift: parameters["image.norm.bias"]!)
        return SummarizerTransformer.Memory(encoded: dropout.map { $0(states) } ?? states, batch: batch, length: cells)
    }

    /// What `memory(features:)` gives, bit for bit, for inference: the same products (the same
    /// OpenBLAS call), sums and divisions in the same order, in loops over buffers — the graph's
    /// permute, broadcast adds and composed layer norm made an array per operation (5% of the
    /// image daemon's CPU, perf).
    func inferenceMemory(features: Tensor) -> SummarizerTransformer.Memory {
        let (batch, channels, cells, width) = (features.shape[0], features.shape[1], features.shape[2] * features.shape[3], decoder.configuration.width)
        let rows = batch * cells
        var positions = [Float](repeating: 0, count: rows * channels)
        features.data.withUnsafeBufferPointer { maps in
            for image in 0..<batch {
                for channel in 0..<channels {
                    for cell in 0..<cells {
                        positions[(image * cells + cell) * channels + channel] = maps[(image * channels + channel) * cells + cell]
                    }
                }
            }
        }
        let projected = Tensor(shape: [rows, channels], data: positions).matmul(parameters["image.projection.weight"]!)
        let (bias, position) = (parameters["image.projection.bias"]!.data, parameters["image.position"]!.data)
        let (scale, shift) = (parameters["image.norm.weight"]!.data, parameters["image.norm.bias"]!.data)
        var states = [Float](repeating: 0, count: rows * width)
        var values = [Float](repeating: 0, count: width), centred = values, squares = values
        projected.data.withUnsafeBufferPointer { products in
            for row in 0..<rows {
                let cell = row % cells
                for j in 0..<width { values[j] = products[row * width + j] + bias[j] + position[cell * width + j] }
                let mean = values.withUnsafeBufferPointer { VectorKernels.sum($0.baseAddress!, count: width) } * (1 / Float(width))
                for j in 0..<width {
                    centred[j] = values[j] - mean
                    squares[j] = centred[j] * centred[j]
                }
                let variance = squares.withUnsafeBufferPointer { VectorKernels.sum($0.baseAddress!, count: width) } * (1 / Float(width))
                let deviation = (variance + 1e-5).squareRoot()
                for j in 0..<width { states[row * width + j] = centred[j] / deviation * scale[j] + shift[j] }
            }
        }
        return SummarizerTransformer.Memory(encoded: Tensor(shape: [rows, width], data: states), batch: batch, length: cells)
    }

    /// The impression written for each image (of the trunk's input side), greedy or by beam search.
    public func caption(_ images: [[UInt8]], decoding: Summarizer.Decoding = .beam(width: 4)) -> [String] {
        caption(images, decoding: decoding, throughThePlan: true, drafting: true, screening: true)
    }

    /// The trunk's features of a slice through its plan when it has one and `throughThePlan`
    /// (which tests turn off, to hold the plan to the graph).
    func sliceFeatures(_ images: [[UInt8]], throughThePlan: Bool = true) -> Tensor {
        if throughThePlan, let trunkSession { return trunkSession.lastStageMaps(images) }
        return features(images)
    }

    /// Captions with the faster paths each on or off: tests hold them to the plain ones.
    func caption(_ images: [[UInt8]], decoding: Summarizer.Decoding, throughThePlan: Bool, drafting: Bool,
                 screening: Bool = true) -> [String] {
        guard !images.isEmpty else { return [] }
        let maximumLength = settings.maximumOutputLength
        let slices = stride(from: 0, to: images.count, by: Self.slice).map { Array(images[$0..<min(images.count, $0 + Self.slice)]) }
        nonisolated(unsafe) let captioner = self  // shared by the cores: captioning only reads the weights
        let outputs = concurrentMap(slices.count) { index -> [[Int]] in
            let features = captioner.sliceFeatures(slices[index], throughThePlan: throughThePlan)
            switch decoding {
            case .beam(let width):
                return (0..<slices[index].count).map { row in
                    captioner.decoder.beam(memory: captioner.inferenceMemory(features: features.selectingImage(row)), width: width,
                                           maximumLength: maximumLength)
                }
            case .greedy, .minimumBayesRisk:
                let memory = captioner.inferenceMemory(features: features)
                return drafting
                    ? captioner.decoder.greedy(memory: memory, maximumLength: maximumLength, drafts: captioner.drafts, screening: screening)
                    : captioner.decoder.greedy(memory: memory, maximumLength: maximumLength, screening: screening)
            }
        }
        return outputs.flatMap { $0 }.map(vocabulary.decode)
    }
}

extension Tensor {
    /// One image of an NCHW batch, as a batch of one.
    func selectingImage(_ index: Int) -> Tensor {
        let size = count / shape[0]
        return Tensor(shape: [1] + shape.dropFirst(), data: Array(data[(index * size)..<((index + 1) * size)]))
    }
}
