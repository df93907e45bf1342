import Training

/// How a self-training round trains: the configuration's `selfTraining.round`, and the
/// options of `radstream self-train`.
public struct DistillationOptions: Codable, Sendable, Equatable {
    /// Passes over the unlabeled pool; the steps this makes are bounded by `minSteps` and `maxSteps`.
    public var epochs = 6
    public var minSteps = 40
    /// A round in the daemon must end: whatever the pool, no more steps than this.
    public var maxSteps = 1200
    public var batchSize = 128
    /// AdamW's peak rate (short warm-up, cosine decay): lower than training from scratch, as the
    /// student starts from a trained model.
    public var learningRate: Float = 5e-4
    public var weightDecay: Float = 0.05
    /// After every step, teacher ← decay · teacher + (1 − decay) · student (weights and batch-norm statistics).
    public var teacherDecay: Float = 0.99
    /// Every `correctionEvery`-th step the student trains on a labeled batch instead (the
    /// correction); 0: never.
    public var correctionEvery = 3
    /// The teacher's soft predictions are softmax(logits / sharpening): below 1, sharper.
    public var sharpening: Float = 0.5
    public var seed: UInt64 = 1
    /// Measure the candidate's batch-norm statistics again on plain images at the end of the round.
    public var recomputeBatchStatistics = true
    /// The teacher's view of an unlabeled image, and the view of a labeled one in the correction.
    public var weak = Augmentation()
    /// The student's view of an unlabeled image.
    public var strong = StrongAugmentation()

    public init() {}

    /// Why these options cannot make a round, if they cannot.
    public func validate() throws {
        func check(_ condition: Bool, _ message: String) throws { if !condition { throw SelfTrainingError(message) } }
        try check(epochs > 0 && minSteps > 0 && maxSteps >= minSteps, "epochs and steps must be positive, maxSteps ≥ minSteps")
        try check(batchSize > 1, "the batch size must be at least 2 (batch norm)")
        try check(learningRate > 0 && weightDecay >= 0, "the learning rate must be positive and the weight decay not negative")
        try check(teacherDecay >= 0 && teacherDecay < 1, "the teacher's decay must be in [0, 1)")
        try check(correctionEvery == 0 || correctionEvery >= 2, "correctionEvery must be 0 (never) or at least 2")
        try check(sharpening > 0, "the sharpening temperature must be positive")
    }

    /// The steps a round takes over `unlabeled` images.
    public func steps(unlabeled: Int) -> Int {
        let perEpoch = (unlabeled + batchSize - 1) / batchSize
        let unlabeledSteps = epochs * perEpoch
        // Every correctionEvery-th step is a labeled one: that many more steps for the same passes.
        let total = correctionEvery >= 2 ? unlabeledSteps * correctionEvery / (correctionEvery - 1) : unlabeledSteps
        return min(max(total, minSteps), maxSteps)
    }
}
