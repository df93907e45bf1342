import Foundation
import Models

/// What a shipped model's `manifest.json` records so that anyone can reproduce it: the data, the
/// command, the commit, the options, the figures and how long it took.
public struct ModelManifest: Codable, Sendable {
    public struct DataUsed: Codable, Sendable {
        /// The data folder as the command was given it (relative to the repository's root).
        public var source: String
        public var validationShare: Double
        public var splitSeed: UInt64
        public var trainingImages: Int
        public var validationImages: Int
        public var classes: [String]
        public var trainingClassCounts: [Int]
        public var validationClassCounts: [Int]
        /// How training and validation were split, and what was left out.
        public var split: String

        public init(source: String, validationShare: Double, splitSeed: UInt64, trainingImages: Int, validationImages: Int,
                    classes: [String], trainingClassCounts: [Int], validationClassCounts: [Int], split: String) {
            self.source = source
            self.validationShare = validationShare
            self.splitSeed = splitSeed
            self.trainingImages = trainingImages
            self.validationImages = validationImages
            self.classes = classes
            self.trainingClassCounts = trainingClassCounts
            self.validationClassCounts = validationClassCounts
            self.split = split
        }
    }

    public var model: String
    public var version: String
    public var weights: String
    public var createdAt: String
    /// The command line that trained it, to run again from the repository's root.
    public var command: String
    /// `git describe --always --dirty` of the tree that trained it.
    public var commit: String
    public var data: DataUsed
    public var options: ClassifierTrainingOptions
    public var parameters: Int
    public var bestEpoch: Int
    /// On the validation set, after calibration: what `verify` reproduces.
    public var validation: ClassifierEvaluation
    public var validationBeforeCalibration: ClassifierEvaluation
    public var temperature: Float
    public var threshold: Float?
    public var trainingSeconds: Double
    public var machine: String
    public var history: [Epoch]
    /// The k-fold cross-validation over the training set that chose the temperature and threshold
    /// (and, run for each candidate recipe, the recipe); nil: the validation set chose them.
    public var crossValidation: ClassifierCrossValidation.Report?
    /// What chose each setting — "recipe", "epoch", "temperature", "threshold" — and what the
    /// validation figures therefore mean ("validation").
    public var choices: [String: String]?

    public struct Epoch: Codable, Sendable {
        public var epoch: Int
        public var trainingLoss: Double
        public var validationAUC: Double
        public var validationAccuracy: Double

        public init(epoch: Int, trainingLoss: Double, validationAUC: Double, validationAccuracy: Double) {
            self.epoch = epoch
            self.trainingLoss = trainingLoss
            self.validationAUC = validationAUC
            self.validationAccuracy = validationAccuracy
        }
    }

    public init(model: String, version: String, weights: String, createdAt: String, command: String, commit: String,
                data: DataUsed, options: ClassifierTrainingOptions, parameters: Int, bestEpoch: Int,
                validation: ClassifierEvaluation, validationBeforeCalibration: ClassifierEvaluation, temperature: Float,
                threshold: Float?, trainingSeconds: Double, machine: String, history: [Epoch],
                crossValidation: ClassifierCrossValidation.Report? = nil, choices: [String: String]? = nil) {
        self.model = model
        self.version = version
        self.weights = weights
        self.createdAt = createdAt
        self.command = command
        self.commit = commit
        self.data = data
        self.options = options
        self.parameters = parameters
        self.bestEpoch = bestEpoch
        self.validation = validation
        self.validationBeforeCalibration = validationBeforeCalibration
        self.temperature = temperature
        self.threshold = threshold
        self.trainingSeconds = trainingSeconds
        self.machine = machine
        self.history = history
        self.crossValidation = crossValidation
        self.choices = choices
    }

    public static let fileName = ManifestFile.name
    public static let weightsFileName = "model.safetensors"

    public func write(to directory: URL) throws { try ManifestFile.write(self, to: directory) }

    public static func read(from directory: URL) throws -> ModelManifest { try ManifestFile.read(Self.self, from: directory) }
}
