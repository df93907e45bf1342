import Foundation
import Models
import TensorEngine

/// How counterfactuals did on a set of films, under the joint head and under a classifier they
/// were not made against.
public struct CounterfactualFigures: Codable, Sendable {
    public var options: CounterfactualOptions
    public var films: Int
    /// The share whose counterfactual the joint head decides as the class asked for.
    public var flipRate: Double
    /// The same under the independent classifier (its decision on the counterfactual is the class
    /// asked for), over the films it decided as the joint head did (the others it would not flip
    /// "back" to the same target).
    public var independentFlipRate: Double
    public var independentFilms: Int
    public var meanL1: Double
    public var meanChangedFraction: Double
    public var seconds: Double

    /// Counterfactuals of `films` by `explainer`, judged by the joint head and by `independent`.
    public static func measure(_ films: [[UInt8]], explainer: CounterfactualExplainer, independent: ImageClassifier) -> CounterfactualFigures {
        let start = ContinuousClock.now
        let made = explainer.explain(films)
        let before = independent.probabilities(films).map(independent.decision)
        let after = independent.probabilities(made.map(\.pixels)).map(independent.decision)
        let agreeing = made.indices.filter { before[$0] == made[$0].from }
        let duration = ContinuousClock.now - start
        return CounterfactualFigures(
            options: explainer.options, films: films.count,
            flipRate: Double(made.filter(\.flipped).count) / Double(max(made.count, 1)),
            independentFlipRate: Double(agreeing.filter { after[$0] == made[$0].to }.count) / Double(max(agreeing.count, 1)),
            independentFilms: agreeing.count,
            meanL1: made.map(\.l1).reduce(0, +) / Double(max(made.count, 1)),
            meanChangedFraction: made.map(\.changedFraction).reduce(0, +) / Double(max(made.count, 1)),
            seconds: Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}

/// How generated films compare with real ones, on the features of a classifier's trunk.
public struct GenerationFigures: Codable, Sendable {
    public var generated: Int
    /// Fréchet distances to the real films: of the generated films; of other real films (the
    /// floor: two samples of the same population); of noise (the ceiling).
    public var generatedDistance: Double
    public var realDistance: Double
    public var noiseDistance: Double
    /// The share of generated films the classifier decides as the class they were asked for, per class.
    public var agreement: [String: Double]

    public init(generated: Int, generatedDistance: Double, realDistance: Double, noiseDistance: Double, agreement: [String: Double]) {
        (self.generated, self.generatedDistance, self.realDistance, self.noiseDistance) = (generated, generatedDistance, realDistance, noiseDistance)
        self.agreement = agreement
    }

    /// The features a Fréchet distance is taken on: the classifier's stages, globally pooled.
    public static func features(_ films: [[UInt8]], of classifier: ImageClassifier) -> [[Float]] {
        stride(from: 0, to: films.count, by: 256).flatMap { start in
            classifier.probabilitiesAndFeatures(Array(films[start..<min(start + 256, films.count)]), pooling: .global).map(\.features)
        }
    }
}
