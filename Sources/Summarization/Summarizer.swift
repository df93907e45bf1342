import Foundation
import Models
import Reports
import TensorEngine

/// FINDINGS → IMPRESSION: the trained transformer, its vocabulary and how it reads and writes.
///
/// It reads the FINDINGS alone; whatever else a report says (an IMPRESSION above all) never
/// reaches it, since `summarize` takes findings text and nothing else. Decoding only reads the
/// weights (detached: no graph is recorded), so one instance may serve many calls; it is
/// `@unchecked Sendable` for that reason alone.
public struct Summarizer: @unchecked Sendable {
    public struct Settings: Codable, Sendable, Equatable {
        public var version = "untrained"
        public var maximumSourceLength = 200
        public var maximumOutputLength = 60

        public init(version: String = "untrained", maximumSourceLength: Int = 200, maximumOutputLength: Int = 60) {
            self.version = version
            self.maximumSourceLength = maximumSourceLength
            self.maximumOutputLength = maximumOutputLength
        }
    }

    public let model: SummarizerTransformer
    public let vocabulary: ReportVocabulary
    public private(set) var settings: Settings
    /// The training epoch these weights are from (0 when loaded).
    public let bestEpoch: Int
    /// How to choose among the model's own impression and those of the nearest earlier reports
    /// when a memory of reports is given (`reranker.json` beside the weights; nil: the model alone).
    public var reranker: SummaryReranker?
    /// What was worked out before for the same words: decoded outputs and candidates' likelihoods.
    private(set) var memo = SummaryMemo()

    public init(model: SummarizerTransformer, vocabulary: ReportVocabulary, settings: Settings, bestEpoch: Int = 0) {
        precondition(model.configuration.vocabularySize == vocabulary.count, "a model for \(model.configuration.vocabularySize) words with \(vocabulary.count)")
        self.model = model
        self.vocabulary = vocabulary
        self.settings = settings
        self.bestEpoch = bestEpoch
    }

    public var version: String { settings.version }

    /// The labeler whose readings the summarizer memoises (of the findings, and of the
    /// candidates' impressions): whoever labels the same reports beside it — the daemon's
    /// labeler stage — shares its memo of sentences, and reads each findings sentence once.
    public var labeler: ReportLabeler { memo.labeler }

    /// The same summarizer with nothing memoised: what a benchmark measures each pass with, so
    /// that repeating its reports measures the work and not the memo.
    public func withEmptyMemo() -> Summarizer {
        var copy = self
        copy.memo = SummaryMemo()
        return copy
    }

    /// The token ids the model reads for `findings`: empty when there is nothing to read.
    static func source(_ findings: String, vocabulary: ReportVocabulary, settings: Settings) -> [Int] {
        Array(vocabulary.encode(findings).prefix(settings.maximumSourceLength))
    }

    /// How an impression is chosen from the model's next-token distributions.
    public enum Decoding: Sendable, Hashable, CustomStringConvertible {
        /// The most likely token at each step.
        case greedy
        /// The most likely whole output (length-normalised) among `width` hypotheses kept per step.
        case beam(width: Int)
        /// Minimum Bayes risk: among the greedy output and `samples` outputs drawn from the model,
        /// the one with the highest mean ROUGE-L against all of them — the output the model
        /// expects to score best, where greedy takes the likeliest word at each step. Sampling is
        /// seeded by the report's own words, so a report always gets the same impression.
        case minimumBayesRisk(samples: Int)

        public var description: String {
            switch self {
            case .greedy: "greedy"
            case .beam(let width): "beam \(width)"
            case .minimumBayesRisk(let samples): "MBR over greedy + \(samples) samples"
            }
        }
    }

    /// The generated impression of each FINDINGS text (nil for one without a word to read),
    /// decoded on every core. Findings read before (by their words, with the same decoding) get
    /// the impression they got then without decoding again, and findings repeated within the
    /// call are decoded once.
    public func summarize(_ findings: [String], decoding: Decoding = .greedy) -> [String?] {
        summarizeKeepingEncodings(findings, decoding: decoding).impressions
    }

    /// `summarize`, each findings text's source ids, and the encoder's states (sourceLength·width)
    /// of each source it encoded, for scoring candidates against the same source without reading
    /// or encoding it again.
    func summarizeKeepingEncodings(_ findings: [String], decoding: Decoding)
        -> (impressions: [String?], sources: [[Int]], encodings: [[Int]: [Float]]) {
        let sources = findings.map { Self.source($0, vocabulary: vocabulary, settings: settings) }
        let maximumLength = settings.maximumOutputLength
        func key(_ source: [Int]) -> DecodedKey { DecodedKey(decoding: decoding, maximumLength: maximumLength, source: source) }
        var decoded: [[Int]: [Int]] = [:], pending: [[Int]] = [], queued = Set<[Int]>(), encodings: [[Int]: [Float]] = [:]
        for source in sources where !source.isEmpty && decoded[source] == nil {
            if let known = memo.decoded[key(source)] { decoded[source] = known } else if queued.insert(source).inserted { pending.append(source) }
        }
        for (source, result) in zip(pending, decode(pending, decoding: decoding, maximumLength: maximumLength)) {
            decoded[source] = result.output
            encodings[source] = result.encoded
            memo.decoded.store(result.output, for: key(source))
        }
        return (sources.map { decoded[$0].map(vocabulary.decode) }, sources, encodings)
    }

    /// The output of each source (none empty), decoded on every core, with the encoder's states
    /// of the source where decoding encoded it with others (greedy's slices).
    private func decode(_ sources: [[Int]], decoding: Decoding, maximumLength: Int) -> [(output: [Int], encoded: [Float]?)] {
        guard !sources.isEmpty else { return [] }
        nonisolated(unsafe) let model = model  // shared by the cores: decoding only reads its weights
        var outputs = [[Int]](repeating: [], count: sources.count), encoded = [[Float]?](repeating: nil, count: sources.count)
        switch decoding {
        case .beam(let width):
            // One report per core: a beam's steps are too small to split.
            outputs = concurrentMap(sources.count) { model.beam(sources[$0], width: width, maximumLength: maximumLength) }
        case .greedy, .minimumBayesRisk:
            // Greedy in slices of similar length, so that one long report pads few short ones;
            // the slices on every core.
            let byLength = sources.indices.sorted { sources[$0].count < sources[$1].count }
            let slices = stride(from: 0, to: byLength.count, by: 32).map { Array(byLength[$0..<min(byLength.count, $0 + 32)]) }
            let width = model.configuration.width
            let found = concurrentMap(slices.count) { slice -> (outputs: [[Int]], encoded: [[Float]]) in
                let memory = model.encodeOnPlan(slices[slice].map { sources[$0] })
                let states = slices[slice].enumerated().map { row, index in
                    Array(memory.states.data[(row * memory.length * width)..<((row * memory.length + sources[index].count) * width)])
                }
                return (model.greedy(memory: memory, maximumLength: maximumLength), states)
            }
            for (slice, result) in zip(slices, found) {
                for (position, index) in slice.enumerated() { (outputs[index], encoded[index]) = (result.outputs[position], result.encoded[position]) }
            }
        }
        if case .minimumBayesRisk(let count) = decoding, count > 0 {
            let greedy = outputs, vocabulary = vocabulary
            outputs = concurrentMap(sources.count) { index -> [Int] in
                let source = sources[index]
                var generator = SeededGenerator(seed: source.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 })
                let candidates = [greedy[index]] + model.samples(source, count: count, maximumLength: maximumLength, generator: &generator)
                return Self.minimumBayesRisk(candidates.map { vocabulary.decode($0) }).map { candidates[$0] } ?? greedy[index]
            }
        }
        return zip(outputs, encoded).map { ($0, $1) }
    }

    /// The index of the candidate with the highest total ROUGE-L F1 against all candidates
    /// (itself included, duplicates counted: drawn outputs stand for the model's distribution).
    static func minimumBayesRisk(_ candidates: [String]) -> Int? {
        let tokens = candidates.map(Rouge.tokens)
        let totals = tokens.map { candidate in tokens.reduce(0) { $0 + Rouge.lcsF1($1, candidate) } }
        return totals.indices.max { totals[$0] < totals[$1] || (totals[$0] == totals[$1] && $0 > $1) }
    }

    // MARK: Checkpoint

    /// The checkpoint format's name and version, in the safetensors header's `__metadata__`.
    public static let checkpointFormat = "radstream.summarizer.v1"
    /// The vocabulary, one token per line in id order, beside the weights.
    public static let vocabularyFileName = "vocabulary.txt"
    /// The reranker, when there is one, beside the weights.
    public static let rerankerFileName = "reranker.json"

    /// Sets the version from the weights (see `ModelVersion`).
    public mutating func stampVersion() throws {
        settings.version = try ModelVersion.of(model.parameters)
    }

    /// Writes `model.safetensors` (configuration and settings in `__metadata__`) and
    /// `vocabulary.txt` into `directory`.
    public func save(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Safetensors(tensors: model.parameters.mapValues { $0.detached() }, metadata: [
            "format": Self.checkpointFormat,
            "transformer": String(decoding: try encoder.encode(model.configuration), as: UTF8.self),
            "summarizer": String(decoding: try encoder.encode(settings), as: UTF8.self),
        ]).write(to: directory.appendingPathComponent(ModelStore.weightsFileName))
        try Data((vocabulary.tokens.joined(separator: "\n") + "\n").utf8)
            .write(to: directory.appendingPathComponent(Self.vocabularyFileName))
        if let reranker { try reranker.write(to: directory.appendingPathComponent(Self.rerankerFileName)) }
    }

    /// Loads a summarizer folder written by `save(to:)`.
    public init(contentsOf directory: URL) throws {
        let weights = directory.appendingPathComponent(ModelStore.weightsFileName)
        do {
            let checkpoint = try Safetensors.read(contentsOf: weights)
            guard checkpoint.metadata["format"] == Self.checkpointFormat else {
                throw CheckpointError("not a RadStream summarizer (format \(checkpoint.metadata["format"] ?? "missing"), expected \(Self.checkpointFormat))")
            }
            guard let transformer = checkpoint.metadata["transformer"], let summarizer = checkpoint.metadata["summarizer"] else {
                throw CheckpointError("the checkpoint's metadata lacks the transformer or the summarizer settings")
            }
            let configuration = try JSONDecoder().decode(SummarizerTransformer.Configuration.self, from: Data(transformer.utf8))
            let settings = try JSONDecoder().decode(Settings.self, from: Data(summarizer.utf8))
            let vocabulary = try ReportVocabulary(contentsOf: directory.appendingPathComponent(Self.vocabularyFileName),
                                                  expectedCount: configuration.vocabularySize)
            let model = try SummarizerTransformer(configuration: configuration, tensors: checkpoint.tensors)
            self.init(model: model, vocabulary: vocabulary, settings: settings)
            let rerankerFile = directory.appendingPathComponent(Self.rerankerFileName)
            if FileManager.default.fileExists(atPath: rerankerFile.path) {
                do { reranker = try JSONDecoder().decode(SummaryReranker.self, from: Data(contentsOf: rerankerFile)) } catch {
                    throw CheckpointError("\(Self.rerankerFileName) cannot be read: \(error)")
                }
            }
        } catch let error as CheckpointError {
            throw CheckpointError("\(directory.path): \(error.description)")
        }
    }
}

extension SummarizerTransformer {
    /// A model of `configuration` with the weights of `tensors`, which must hold every
    /// parameter with its shape; the result records no graph.
    public convenience init(configuration: Configuration, tensors: [String: Tensor]) throws(CheckpointError) {
        let fresh = SummarizerTransformer(configuration: configuration, seed: 0)
        var loaded: [String: Tensor] = [:]
        for (name, parameter) in fresh.parameters {
            guard let stored = tensors[name] else { throw CheckpointError("the checkpoint has no tensor \(name)") }
            guard stored.shape == parameter.shape else {
                throw CheckpointError("\(name) has shape \(stored.shape) in the checkpoint, \(parameter.shape) in the model")
            }
            loaded[name] = Tensor(shape: stored.shape, data: stored.data)
        }
        self.init(configuration: configuration, loadedParameters: loaded)
    }

    /// Parameters in all: the count a manifest records.
    public var parameterCount: Int { parameters.values.reduce(0) { $0 + $1.count } }
}
