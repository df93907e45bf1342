import Foundation
import TensorEngine

/// Whether a classifier is fit to read a film at all: a frontal chest film of the population it
/// was trained on, not a lateral film, a photograph, noise or a film of another population.
///
/// Two checks. The film must have contrast (a blank or saturated image carries no film). And its
/// features — the classifier's own stages, pooled (`ApplicabilityPooling`) — must lie where the
/// training films' lie: the Mahalanobis distance to the nearest class mean under the classes' shared covariance
/// (Lee et al., NeurIPS 2018), turned into a score by the training films themselves: the share of
/// them, measured out of fold, that lie farther out. A score of 0.5 is an ordinary training film;
/// below `minimumScore` the film is unlike all but that share of them.
///
/// A third, where fitted: a population check, a small CNN of its own trained to tell the
/// training films from films of a population the model was not made for (adult films for a
/// paediatric model) and from the training films turned the wrong way. The distance alone cannot refuse those when they look like chest films to
/// the trunk, and a linear discriminant on the trunk's features was measured not to separate
/// them (docs/models/applicability.md): what tells a child's film from an adult's is not what
/// tells pneumonia from a normal film. A film it assigns to the other population scores 0.
public struct ApplicabilityGate: Sendable {
    public static let fileName = "applicability.safetensors"
    public static let format = "radstream.applicability.v1"

    /// The classifier it was fitted for: its trunk's features mean nothing to another version.
    public let model: String
    public let modelVersion: String
    /// The features it reads of the network's maps.
    public let pooling: ApplicabilityPooling
    /// Films scored below this are not applicable.
    public let minimumScore: Float
    /// Films whose pixels' standard deviation (0–255) is below this have no contrast to read.
    public let minimumPixelSpread: Float
    /// classes × features.
    let classMeans: [[Float]]
    /// The inverse of the shared covariance, features × features, row-major.
    let precision: [Float]
    /// The training films' out-of-fold distances, ascending.
    let referenceDistances: [Float]
    public let populationCheck: PopulationCheck?

    /// A classifier whose first class is the model's own population; a film whose probability
    /// of that class is below `minimumOwnProbability` (another population, a film turned the
    /// wrong way) is refused.
    public struct PopulationCheck: Sendable {
        /// What it refuses, in words ("the training splits of ../shared/data/covid").
        public let refuses: String
        public let classifier: ImageClassifier
        /// 0.5 at most; lower where the own training films, out of fold, needed it.
        public let minimumOwnProbability: Float
        /// The classifier's allocation-free plan (nil for a network it does not cover): the check
        /// runs on every film the gated model reads, and through the graph it was 7% of the
        /// daemon's time on a stream of films.
        private let planned: ImageClassifier.SharedInferenceSession?

        public init(refuses: String, classifier: ImageClassifier, minimumOwnProbability: Float) {
            (self.refuses, self.classifier, self.minimumOwnProbability) = (refuses, classifier, minimumOwnProbability)
            planned = ImageClassifier.SharedInferenceSession(classifier: classifier, batch: 64)
        }

        var runsThroughThePlan: Bool { planned != nil }

        /// For each film (input pixels), whether it is refused.
        public func refuses(_ pixels: [[UInt8]]) -> [Bool] {
            ownProbabilities(pixels).map { $0 < minimumOwnProbability }
        }

        /// For each film, the probability that it is of the model's own population.
        func ownProbabilities(_ pixels: [[UInt8]], throughThePlan: Bool = true) -> [Float] {
            if throughThePlan, let planned { return planned.probabilities(pixels).map { $0[0] } }
            // In slices, as the classifier stage runs: the activations' memory stays bounded
            // whatever the batch.
            return stride(from: 0, to: pixels.count, by: 256).flatMap { start in
                classifier.probabilities(Array(pixels[start..<min(start + 256, pixels.count)])).map { $0[0] }
            }
        }

        public static let fileName = "applicability-population.safetensors"
    }

    public init(model: String, modelVersion: String, pooling: ApplicabilityPooling, minimumScore: Float, minimumPixelSpread: Float,
                classMeans: [[Float]], precision: [Float], referenceDistances: [Float], populationCheck: PopulationCheck? = nil) {
        self.pooling = pooling
        self.populationCheck = populationCheck
        precondition(!classMeans.isEmpty && precision.count == classMeans[0].count * classMeans[0].count, "mean and precision sizes differ")
        (self.model, self.modelVersion, self.minimumScore, self.minimumPixelSpread) = (model, modelVersion, minimumScore, minimumPixelSpread)
        (self.classMeans, self.precision, self.referenceDistances) = (classMeans, precision, referenceDistances.sorted())
    }

    public var featureCount: Int { classMeans[0].count }

    /// The same gate with a population check.
    public func with(populationCheck: PopulationCheck) -> ApplicabilityGate {
        ApplicabilityGate(model: model, modelVersion: modelVersion, pooling: pooling, minimumScore: minimumScore,
                          minimumPixelSpread: minimumPixelSpread, classMeans: classMeans, precision: precision,
                          referenceDistances: referenceDistances, populationCheck: populationCheck)
    }

    /// The squared Mahalanobis distance of pooled features to the nearest class mean.
    public func distance(_ features: [Float]) -> Float {
        distances([features])[0]
    }

    /// The same for many films at once: per class, the centred features of the batch times the
    /// precision through BLAS (a film costs features² multiply-adds per class: 200,000 for the
    /// pneumonia gate, which as a loop cost the daemon a third of its images per second).
    public func distances(_ rows: [[Float]]) -> [Float] {
        guard !rows.isEmpty else { return [] }
        let d = featureCount
        precondition(rows.allSatisfy { $0.count == d }, "\(d) features expected")
        let precision = Tensor(shape: [d, d], data: self.precision)
        var nearest = [Float](repeating: .infinity, count: rows.count)
        var centred = [Float](repeating: 0, count: rows.count * d)
        for mean in classMeans {
            for (index, row) in rows.enumerated() { for i in 0..<d { centred[index * d + i] = row[i] - mean[i] } }
            let weighted = Tensor(shape: [rows.count, d], data: centred).matmul(precision).data
            for index in rows.indices {
                var total: Float = 0
                for i in 0..<d { total += centred[index * d + i] * weighted[index * d + i] }
                nearest[index] = min(nearest[index], total)
            }
        }
        return nearest
    }

    /// The share of training films lying farther out than a film at this distance.
    public func score(distance: Float) -> Float {
        guard !referenceDistances.isEmpty else { return 1 }
        // The first reference distance not below `distance`.
        var low = 0, high = referenceDistances.count
        while low < high {
            let middle = (low + high) / 2
            if referenceDistances[middle] < distance { low = middle + 1 } else { high = middle }
        }
        return Float(referenceDistances.count - low) / Float(referenceDistances.count)
    }

    /// One film's verdict.
    public struct Assessment: Sendable, Equatable {
        /// 0 (no contrast, or unlike every training film) to 1.
        public let score: Float
        public let applicable: Bool

        public init(score: Float, applicable: Bool) {
            self.score = score
            self.applicable = applicable
        }
    }

    /// The verdict for a film from its input pixels and the classifier's pooled features of it.
    public func assess(pixels: [UInt8], features: [Float]) -> Assessment {
        assess(pixels: [pixels], features: [features])[0]
    }

    /// The verdicts for many films at once.
    public func assess(pixels: [[UInt8]], features: [[Float]]) -> [Assessment] {
        let refused = populationCheck?.refuses(pixels) ?? pixels.map { _ in false }
        return zip(zip(pixels, refused), distances(features)).map { film, distance in
            let (pixels, refused) = film
            guard Self.pixelSpread(pixels) >= minimumPixelSpread, !refused else { return Assessment(score: 0, applicable: false) }
            let score = score(distance: distance)
            return Assessment(score: score, applicable: score >= minimumScore)
        }
    }

    /// The standard deviation of the pixels, 0–255.
    public static func pixelSpread(_ pixels: [UInt8]) -> Float {
        guard !pixels.isEmpty else { return 0 }
        var sum = 0.0, squares = 0.0
        for pixel in pixels {
            sum += Double(pixel)
            squares += Double(pixel) * Double(pixel)
        }
        let mean = sum / Double(pixels.count)
        return Float(max(0, squares / Double(pixels.count) - mean * mean).squareRoot())
    }
}

extension ApplicabilityGate {
    /// The gate as the files it is kept in: its own checkpoint, and its population check's
    /// classifier in the classifier checkpoint format (nil without one). The model folder and
    /// the model registry keep the same two.
    public func checkpoints() throws -> (gate: Safetensors, populationCheck: Safetensors?) {
        let d = featureCount
        let tensors = [
            "class_means": Tensor(shape: [classMeans.count, d], data: classMeans.flatMap { $0 }),
            "precision": Tensor(shape: [d, d], data: precision),
            "reference_distances": Tensor(shape: [referenceDistances.count], data: referenceDistances),
        ]
        var metadata = [
            "format": Self.format, "model": model, "model_version": modelVersion, "pooling": pooling.rawValue,
            "minimum_score": "\(minimumScore)", "minimum_pixel_spread": "\(minimumPixelSpread)",
        ]
        if let populationCheck {
            metadata["population_refuses"] = populationCheck.refuses
            metadata["population_version"] = populationCheck.classifier.settings.version
            metadata["population_minimum_own_probability"] = "\(populationCheck.minimumOwnProbability)"
        }
        return (Safetensors(tensors: tensors, metadata: metadata), try populationCheck?.classifier.checkpoint())
    }

    /// Reads a gate from its checkpoints; `source` names where they came from, for the errors.
    public init(checkpoint file: Safetensors, populationCheck population: Safetensors?, source: String) throws {
        let metadata = file.metadata
        guard metadata["format"] == Self.format, let model = metadata["model"], let version = metadata["model_version"],
              let pooling = metadata["pooling"].flatMap(ApplicabilityPooling.init(rawValue:)),
              let minimumScore = metadata["minimum_score"].flatMap(Float.init),
              let spread = metadata["minimum_pixel_spread"].flatMap(Float.init),
              let means = file.tensors["class_means"], means.rank == 2, let precision = file.tensors["precision"],
              precision.shape == [means.shape[1], means.shape[1]], let reference = file.tensors["reference_distances"] else {
            throw CheckpointError("\(source) is not an applicability gate (\(Self.format))")
        }
        let d = means.shape[1]
        var populationCheck: PopulationCheck?
        if let refuses = metadata["population_refuses"] {
            guard let population else { throw CheckpointError("\(source) names a population check, but it is missing") }
            let classifier = try ImageClassifier(checkpoint: population)
            guard classifier.settings.version == metadata["population_version"], classifier.settings.classes.count >= 2,
                  let floor = metadata["population_minimum_own_probability"].flatMap(Float.init) else {
                throw CheckpointError("the population check beside \(source) is not the one it was fitted with")
            }
            populationCheck = PopulationCheck(refuses: refuses, classifier: classifier, minimumOwnProbability: floor)
        }
        self.init(model: model, modelVersion: version, pooling: pooling, minimumScore: minimumScore, minimumPixelSpread: spread,
                  classMeans: (0..<means.shape[0]).map { Array(means.data[($0 * d)..<(($0 + 1) * d)]) },
                  precision: precision.data, referenceDistances: reference.data, populationCheck: populationCheck)
    }

    /// Writes the gate to `url`, and its population check beside it.
    public func save(to url: URL) throws {
        let (gate, population) = try checkpoints()
        if let population {
            try population.write(to: url.deletingLastPathComponent().appending(path: PopulationCheck.fileName))
        }
        try gate.write(to: url)
    }

    public init(contentsOf url: URL) throws {
        let file = try Safetensors.read(contentsOf: url)
        let beside = url.deletingLastPathComponent().appending(path: PopulationCheck.fileName)
        let population = file.metadata["population_refuses"] == nil || !FileManager.default.fileExists(atPath: beside.path)
            ? nil : try Safetensors.read(contentsOf: beside)
        try self.init(checkpoint: file, populationCheck: population, source: url.path)
    }
}
