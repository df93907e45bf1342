import TensorEngine

/// Which summary of the network's maps a gate reads: every stage's maps averaged over the four
/// quadrants of the image (overlapping halves when a side is odd), or over the whole image.
/// Global pooling keeps what the classifier needs and loses where it is — a film upside down
/// pools alike — so quadrants see more; but a covariance needs many more films than features,
/// and a small training set affords only the global summary. The earlier stages keep what the
/// last one discards as irrelevant to the finding, such as the look of an adult's chest against
/// a child's.
public enum ApplicabilityPooling: String, Sendable, Codable, CaseIterable {
    case quadrants, global

    /// The richer layout when the training set has at least ten films per feature of it.
    public static func affordable(trainingFilms: Int, channels: [Int]) -> ApplicabilityPooling {
        trainingFilms >= 10 * channels.reduce(0, +) * 4 ? .quadrants : .global
    }
}

extension ImageClassifier {
    /// Calibrated probabilities and the features an `ApplicabilityGate` reads, per image, from one
    /// pass through the network (`explain` gives the same with a Grad-CAM map besides).
    public func probabilitiesAndFeatures(_ images: [[UInt8]], pooling: ApplicabilityPooling)
        -> [(probabilities: [Float], features: [Float])] {
        guard !images.isEmpty else { return [] }
        let stages = network.stageOutputs(input(images), training: false)
        return Array(zip(calibrated(network.classify(stages.last!)), Self.applicabilityFeatures(of: stages, pooling: pooling)))
    }

    /// Per image, every stage's pooled maps, one after the other.
    static func applicabilityFeatures(of stages: [Tensor], pooling: ApplicabilityPooling) -> [[Float]] {
        let pooled = stages.map { pooling == .quadrants ? quadrantMeans($0) : globalMeans($0) }
        return (0..<stages[0].shape[0]).map { index in pooled.flatMap { $0[index] } }
    }

    static func globalMeans(_ maps: Tensor) -> [[Float]] {
        let pooled = maps.globalAveragePool()
        let width = pooled.shape[1]
        return (0..<pooled.shape[0]).map { Array(pooled.data[($0 * width)..<(($0 + 1) * width)]) }
    }

    /// maps (batch × channels × h × w) → per image, channels × 4 quadrant means.
    static func quadrantMeans(_ maps: Tensor) -> [[Float]] {
        let (batch, channels, height, width) = (maps.shape[0], maps.shape[1], maps.shape[2], maps.shape[3])
        let rows = [0..<((height + 1) / 2), (height / 2)..<height], columns = [0..<((width + 1) / 2), (width / 2)..<width]
        let data = maps.data
        return (0..<batch).map { image in
            var features: [Float] = []
            features.reserveCapacity(channels * 4)
            for channel in 0..<channels {
                let base = (image * channels + channel) * height * width
                for rowRange in rows {
                    for columnRange in columns {
                        var sum: Float = 0
                        for y in rowRange { for x in columnRange { sum += data[base + y * width + x] } }
                        features.append(sum / Float(rowRange.count * columnRange.count))
                    }
                }
            }
            return features
        }
    }
}
