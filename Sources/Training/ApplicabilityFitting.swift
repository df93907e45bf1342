import Foundation
import Models
import TensorEngine

/// Fits an `ApplicabilityGate` to a classifier and its training films.
///
/// The reference distances that turn a distance into a score are measured out of fold: the
/// means and covariance are fitted on k − 1 folds and the distances taken on the k-th, so that a
/// held-out film of the training population scores as a training film would had it been held
/// out — not as the fitted films themselves, which lie closer. The gate itself is then fitted on
/// every training film.
public enum ApplicabilityFitting {
    public struct Options: Sendable, Codable {
        public var folds = 5
        public var seed: UInt64 = 1
        /// The score below which a film is refused: the share of (out-of-fold) training films the
        /// gate refuses by construction.
        public var minimumScore: Float = 0.01
        public var minimumPixelSpread: Float = 4
        /// Added to the covariance's diagonal, relative to its mean: the pooled features of a small
        /// CNN are strongly correlated, and their covariance nearly singular.
        public var ridge: Double = 1e-3
        /// nil: the richest layout the training set affords (`ApplicabilityPooling.affordable`).
        public var pooling: ApplicabilityPooling?
        public init() {}
    }

    /// The gate, and the share of each fold's films it finds applicable when fitted without them.
    public static func fit(_ classifier: ImageClassifier, training: LabeledImageSet, options: Options = Options())
        -> (gate: ApplicabilityGate, foldShares: [Double]) {
        let pooling = options.pooling ?? .affordable(trainingFilms: training.count, channels: classifier.network.configuration.channels)
        let features = pooledFeatures(of: classifier, training.images.map(\.pixels), pooling: pooling)
        let labels = training.images.map(\.label)
        var generator = SeededGenerator(seed: options.seed)
        let fold = (0..<features.count).shuffled(using: &generator).enumerated()
            .reduce(into: [Int](repeating: 0, count: features.count)) { $0[$1.element] = $1.offset % options.folds }
        var outOfFold = [Float](repeating: 0, count: features.count)
        for k in 0..<options.folds {
            let inside = features.indices.filter { fold[$0] != k }
            let (means, precision) = moments(inside.map { features[$0] }, labels: inside.map { labels[$0] },
                                             classes: training.classes.count, ridge: options.ridge)
            let partial = ApplicabilityGate(model: "", modelVersion: "", pooling: pooling, minimumScore: 0, minimumPixelSpread: 0,
                                            classMeans: means, precision: precision, referenceDistances: [])
            let held = features.indices.filter { fold[$0] == k }
            for (index, distance) in zip(held, partial.distances(held.map { features[$0] })) { outOfFold[index] = distance }
        }
        let (means, precision) = moments(features, labels: labels, classes: training.classes.count, ridge: options.ridge)
        let gate = ApplicabilityGate(model: classifier.settings.name, modelVersion: classifier.settings.version, pooling: pooling,
                                     minimumScore: options.minimumScore, minimumPixelSpread: options.minimumPixelSpread,
                                     classMeans: means, precision: precision, referenceDistances: outOfFold)
        // Each fold against the reference of the other folds' distances: how often a film of the
        // training population, unseen, is let through.
        let foldShares = (0..<options.folds).map { k -> Double in
            let others = ApplicabilityGate(model: "", modelVersion: "", pooling: pooling, minimumScore: options.minimumScore, minimumPixelSpread: 0,
                                           classMeans: means, precision: precision,
                                           referenceDistances: features.indices.filter { fold[$0] != k }.map { outOfFold[$0] })
            let members = features.indices.filter { fold[$0] == k }
            let passed = members.filter { others.score(distance: outOfFold[$0]) >= options.minimumScore }.count
            return Double(passed) / Double(max(members.count, 1))
        }
        return (gate, foldShares)
    }

    /// The share of `images` the gate finds applicable.
    public static func applicableShare(of images: [[UInt8]], classifier: ImageClassifier, gate: ApplicabilityGate) -> Double {
        let features = pooledFeatures(of: classifier, images, pooling: gate.pooling)
        return Double(gate.assess(pixels: images, features: features).filter(\.applicable).count) / Double(max(images.count, 1))
    }

    /// The classifier's pooled features of every image, in batches.
    public static func pooledFeatures(of classifier: ImageClassifier, _ images: [[UInt8]], pooling: ApplicabilityPooling) -> [[Float]] {
        stride(from: 0, to: images.count, by: 256).flatMap { start in
            classifier.probabilitiesAndFeatures(Array(images[start..<min(start + 256, images.count)]), pooling: pooling).map(\.features)
        }
    }

    /// Class means and the inverse of the shared (within-class) covariance, with a ridge.
    static func moments(_ features: [[Float]], labels: [Int], classes: Int, ridge: Double) -> (means: [[Float]], precision: [Float]) {
        let d = features[0].count
        var sums = [[Double]](repeating: [Double](repeating: 0, count: d), count: classes)
        var counts = [Int](repeating: 0, count: classes)
        for (row, label) in zip(features, labels) {
            counts[label] += 1
            for i in 0..<d { sums[label][i] += Double(row[i]) }
        }
        let means = sums.enumerated().map { label, sum in sum.map { $0 / Double(max(counts[label], 1)) } }
        var covariance = [Double](repeating: 0, count: d * d)
        for (row, label) in zip(features, labels) {
            let centred = (0..<d).map { Double(row[$0]) - means[label][$0] }
            for i in 0..<d { for j in i..<d { covariance[i * d + j] += centred[i] * centred[j] } }
        }
        for i in 0..<d { for j in i..<d { covariance[i * d + j] /= Double(features.count); covariance[j * d + i] = covariance[i * d + j] } }
        let meanVariance = (0..<d).reduce(0.0) { $0 + covariance[$1 * d + $1] } / Double(d)
        for i in 0..<d { covariance[i * d + i] += ridge * max(meanVariance, 1e-12) }
        return (means.map { $0.map(Float.init) }, invertSymmetricPositiveDefinite(covariance, size: d).map(Float.init))
    }

    /// The inverse of a symmetric positive-definite matrix, through its Cholesky factor L (A = LLᵀ).
    static func invertSymmetricPositiveDefinite(_ a: [Double], size n: Int) -> [Double] {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var sum = a[i * n + j]
                for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = i == j ? sum.squareRoot() : sum / l[j * n + j]
            }
        }
        // L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀ L⁻¹.
        var inverseL = [Double](repeating: 0, count: n * n)
        for column in 0..<n {
            for i in column..<n {
                var sum = i == column ? 1.0 : 0.0
                for k in column..<i { sum -= l[i * n + k] * inverseL[k * n + column] }
                inverseL[i * n + column] = sum / l[i * n + i]
            }
        }
        var inverse = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var sum = 0.0
                for k in i..<n { sum += inverseL[k * n + i] * inverseL[k * n + j] }
                inverse[i * n + j] = sum
                inverse[j * n + i] = sum
            }
        }
        return inverse
    }
}
