/// The configuration's `selfTraining` section: which model improves itself, from which labels,
/// when a round starts, how much of the machine it may take, and what a candidate must show.
public struct SelfTrainingSettings: Codable, Sendable, Equatable {
    /// Whether `radstream serve` starts rounds on its own (`self-train --now` works either way).
    public var enabled: Bool
    /// The image classifier that self-trains, by name ("pneumonia").
    public var model: String
    /// A folder in the PneumoniaMNIST layout: `train/` (the labeled pool, with the images whose
    /// events carried a label) and `val/` (the validation set no round trains on; it decides promotion).
    public var labeledData: String
    /// The share of `train/` used as labels (stratified, seeded with `labelSeed`): the
    /// experiment's 5% and 10%. The rest of `train/` is never read.
    public var labelFraction: Double
    public var labelSeed: UInt64
    /// A round starts when this many unlabeled images have arrived since the last round…
    public var newImages: Int
    /// …or when this many minutes have passed since it and at least one has.
    public var intervalMinutes: Int
    /// How often the daemon checks whether a round is due.
    public var checkSeconds: Int
    /// The share of one core a round in the daemon may take (it runs on one core, at a lower
    /// priority, and sleeps between steps to keep to the share); the stream keeps the rest.
    public var cpuShare: Double
    /// A round reads at most this many unlabeled images, the newest.
    public var maxUnlabeledImages: Int
    public var gate: PromotionGate
    public var round: DistillationOptions

    public static let standard = SelfTrainingSettings(
        enabled: false, model: "pneumonia", labeledData: "", labelFraction: 1, labelSeed: 1, newImages: 1000,
        intervalMinutes: 24 * 60, checkSeconds: 30, cpuShare: 0.5, maxUnlabeledImages: 50_000,
        gate: PromotionGate(), round: DistillationOptions())

    public func validate() throws {
        guard !model.isEmpty else { throw SelfTrainingError("selfTraining.model names no model") }
        guard labelFraction > 0, labelFraction <= 1 else { throw SelfTrainingError("selfTraining.labelFraction must be in (0, 1]") }
        guard newImages > 0, intervalMinutes > 0, checkSeconds > 0 else {
            throw SelfTrainingError("selfTraining.newImages, intervalMinutes and checkSeconds must be positive")
        }
        guard cpuShare > 0, cpuShare <= 1 else { throw SelfTrainingError("selfTraining.cpuShare must be in (0, 1]") }
        guard maxUnlabeledImages > 0 else { throw SelfTrainingError("selfTraining.maxUnlabeledImages must be positive") }
        try round.validate()
    }
}
