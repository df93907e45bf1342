import Foundation
import Training

/// What `models/diffusion/manifest.json` records so that anyone can reproduce the joint model:
/// the data, the command, the commit, the options, the figures and how long it took.
public struct DiffusionManifest: Codable, Sendable {
    public var model: String
    public var version: String
    public var weights: String
    public var createdAt: String
    public var command: String
    /// `git describe --always --dirty` of the tree that trained it.
    public var commit: String
    public var data: ModelManifest.DataUsed
    public var options: JointDiffusionOptions
    public var parameters: Int
    /// Films whose labels the head learned from, and films kept back to calibrate it.
    public var labelledImages: Int
    public var calibrationImages: Int
    /// The head on the calibration films, which fitted its temperature and threshold.
    public var calibration: ClassifierEvaluation
    /// The head on `val`, measured once at the end (nothing was chosen on it).
    public var validation: ClassifierEvaluation
    /// The kept weights' denoising loss on `val` (ten fixed steps per film, fixed noise).
    public var validationDenoisingLoss: Double
    public var temperature: Float
    public var threshold: Float?
    public var trainingSeconds: Double
    public var machine: String
    /// The running losses, one entry per epoch's end.
    public var history: [Epoch]
    /// What chose each setting.
    public var choices: [String: String]

    public struct Epoch: Codable, Sendable {
        public var epoch: Int
        public var denoisingLoss: Double
        public var classificationLoss: Double
        public var seconds: Double

        public init(epoch: Int, denoisingLoss: Double, classificationLoss: Double, seconds: Double) {
            (self.epoch, self.denoisingLoss, self.classificationLoss, self.seconds) = (epoch, denoisingLoss, classificationLoss, seconds)
        }
    }

    public init(model: String, version: String, weights: String, createdAt: String, command: String, commit: String,
                data: ModelManifest.DataUsed, options: JointDiffusionOptions, parameters: Int, labelledImages: Int,
                calibrationImages: Int, calibration: ClassifierEvaluation, validation: ClassifierEvaluation,
                validationDenoisingLoss: Double, temperature: Float, threshold: Float?, trainingSeconds: Double, machine: String,
                history: [Epoch], choices: [String: String]) {
        (self.model, self.version, self.weights, self.createdAt, self.command, self.commit) = (model, version, weights, createdAt, command, commit)
        (self.data, self.options, self.parameters, self.labelledImages, self.calibrationImages) = (data, options, parameters, labelledImages, calibrationImages)
        (self.calibration, self.validation, self.validationDenoisingLoss) = (calibration, validation, validationDenoisingLoss)
        (self.temperature, self.threshold, self.trainingSeconds, self.machine) = (temperature, threshold, trainingSeconds, machine)
        (self.history, self.choices) = (history, choices)
    }
}
