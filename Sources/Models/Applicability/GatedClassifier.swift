/// A classifier as it is served: one version, and the applicability gate fitted for that very
/// version, if it has one (another version's features mean nothing to a gate). Models travel as
/// this pair — from the model folder, the registry and a self-training round to the stream — so
/// that a version swapped in brings its own gate and a version without one is simply not judged.
public struct GatedClassifier: Sendable {
    public let classifier: ImageClassifier
    public let gate: ApplicabilityGate?

    public init(_ classifier: ImageClassifier, gate: ApplicabilityGate?) {
        precondition(gate.map { $0.model == classifier.settings.name && $0.modelVersion == classifier.settings.version } ?? true,
                     "the gate of \(gate?.model ?? "") \(gate?.modelVersion ?? "") does not fit \(classifier.settings.name) \(classifier.settings.version)")
        self.classifier = classifier
        self.gate = gate
    }

    public var name: String { classifier.settings.name }
    public var version: String { classifier.settings.version }
}
