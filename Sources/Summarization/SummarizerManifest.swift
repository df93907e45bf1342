import Foundation
import Models
import Reports

/// What the shipped summarizer's `manifest.json` records so that anyone can reproduce it: the
/// data and its split, the command, the commit, the options, the test figures beside the
/// baselines on the same split, and the training history.
public struct SummarizerManifest: Codable, Sendable {
    public struct DataUsed: Codable, Sendable {
        /// The reports folder as the command was given it (relative to the repository's root).
        public var source: String
        public var split: String
        public var trainingReports: Int
        public var validationReports: Int
        public var testReports: Int

        public init(source: String, split: String, trainingReports: Int, validationReports: Int, testReports: Int) {
            self.source = source
            self.split = split
            self.trainingReports = trainingReports
            self.validationReports = validationReports
            self.testReports = testReports
        }
    }

    public struct Figures: Codable, Sendable, Equatable {
        public var rouge1: Double
        public var rouge2: Double
        public var rougeL: Double

        public init(_ scores: Rouge.Scores) {
            rouge1 = scores.rouge1
            rouge2 = scores.rouge2
            rougeL = scores.rougeL
        }
    }

    public struct Epoch: Codable, Sendable {
        public var epoch: Int
        public var trainingLoss: Double
        public var validationRougeL: Double?

        public init(_ progress: SummarizerProgress) {
            epoch = progress.epoch
            trainingLoss = progress.trainingLoss
            validationRougeL = progress.validationRougeL
        }
    }

    public var model = "summarizer"
    public var version: String
    public var weights: String
    public var vocabulary: String
    public var vocabularySize: Int
    public var createdAt: String
    /// The command line that trained it, to run again from the repository's root.
    public var command: String
    /// `git describe --always --dirty` of the tree that trained it.
    public var commit: String
    public var data: DataUsed
    public var options: SummarizerTrainingOptions
    public var parameters: Int
    public var bestEpoch: Int
    /// ROUGE F1 on the test split, by decoding: "greedy", "beam4", "mbr16".
    public var test: [String: Figures]
    /// The baselines on the same test split, built from the same training reports.
    public var baselines: [String: Figures]
    public var trainingSeconds: Double
    public var machine: String
    public var history: [Epoch]
    /// The denoising epochs before `history`'s (absent without them).
    public var pretrainingHistory: [Epoch]?
    /// How `reranker.json` was fitted, and the cross-validation that measured it (nil: no reranker).
    public var reranker: RerankerRecord?
    /// What chose each setting, by setting: the epoch the weights are from, the reranker's
    /// weights, its neighbours, terms and decoding (nil in manifests written before it).
    public var choices: [String: String]?

    public struct RerankerRecord: Codable, Sendable {
        public var command: String
        public var commit: String
        public var createdAt: String
        /// The folds' models (one per fold, trained without it) whose candidates it was fitted on.
        public var foldModels: [String]
        public var crossValidation: SummarizerCrossValidation.Result

        public init(command: String, commit: String, createdAt: String, foldModels: [String], crossValidation: SummarizerCrossValidation.Result) {
            self.command = command
            self.commit = commit
            self.createdAt = createdAt
            self.foldModels = foldModels
            self.crossValidation = crossValidation
        }
    }

    public init(version: String, weights: String, vocabulary: String, vocabularySize: Int, createdAt: String, command: String,
                commit: String, data: DataUsed, options: SummarizerTrainingOptions, parameters: Int, bestEpoch: Int,
                test: [String: Figures], baselines: [String: Figures], trainingSeconds: Double, machine: String, history: [Epoch]) {
        self.version = version
        self.weights = weights
        self.vocabulary = vocabulary
        self.vocabularySize = vocabularySize
        self.createdAt = createdAt
        self.command = command
        self.commit = commit
        self.data = data
        self.options = options
        self.parameters = parameters
        self.bestEpoch = bestEpoch
        self.test = test
        self.baselines = baselines
        self.trainingSeconds = trainingSeconds
        self.machine = machine
        self.history = history
    }

    public func write(to directory: URL) throws { try ManifestFile.write(self, to: directory) }

    public static func read(from directory: URL) throws -> SummarizerManifest { try ManifestFile.read(Self.self, from: directory) }
}

/// ROUGE of a summarizer and of the baselines on one split: what the manifest records, what
/// `evaluate-summarizer` prints and what the tests reproduce.
public enum SummarizerEvaluation {
    public static func rouge(of summarizer: Summarizer, on test: [FindingsImpressionPair], decoding: Summarizer.Decoding) -> Rouge.Scores {
        let generated = summarizer.summarize(test.map(\.findings), decoding: decoding)
        return Rouge.mean(zip(test, generated).map { Rouge.scores(reference: $0.impression, prediction: $1 ?? "") })
    }

    public static func baselines(training: [FindingsImpressionPair], test: [FindingsImpressionPair]) -> [String: Rouge.Scores] {
        let frequent = SummaryBaselines.mostFrequentImpression(training)
        let nearest = SummaryBaselines.NearestFindings(training)
        let nearestByPairs = SummaryBaselines.NearestFindings(training, terms: .wordsAndPairs)
        return [
            "nearestFindingsTFIDFWordPairs": Rouge.mean(test.map { Rouge.scores(reference: $0.impression, prediction: nearestByPairs.impression(for: $0.findings)) }),
            "mostFrequentImpression": Rouge.mean(test.map { Rouge.scores(reference: $0.impression, prediction: frequent) }),
            "nearestFindingsTFIDF": Rouge.mean(test.map { Rouge.scores(reference: $0.impression, prediction: nearest.impression(for: $0.findings)) }),
        ]
    }
}
