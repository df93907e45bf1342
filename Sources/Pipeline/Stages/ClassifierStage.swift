import Foundation
import Imaging
import Models

/// Runs an image classifier on every image of a batch at once and records its calibrated
/// probabilities, its decision, the Grad-CAM map of that decision and, where the model's version
/// has an applicability gate, whether the model is fit to read the film.
///
/// The network runs through its allocation-free inference plan (`ImageClassifier.InferenceSession`:
/// every activation in a buffer made once, batch norms folded into the convolutions), which gives
/// what the graph gives to 1e-5; a network the plan does not cover (the attention ablation) runs
/// through the graph.
public struct ClassifierStage: ImageBatchStage {
    public let served: GatedClassifier
    public var classifier: ImageClassifier { served.classifier }
    public var gate: ApplicabilityGate? { served.gate }
    public var name: String { "\(served.name) \(served.version)" }
    public var inputSides: Set<Int> { [classifier.settings.inputSide] }
    /// The plan's session, nil for a network it does not cover.
    private let planned: ImageClassifier.SharedInferenceSession?
    public var usesInferencePlan: Bool { planned != nil }

    /// Images per pass: a plan's batch (its buffers are about a quarter of a megabyte per image
    /// at 28 pixels), and the graph's slices, which bound its activations whatever the batch size.
    static let planBatch = 64
    static let slice = 256

    public init(_ served: GatedClassifier) {
        self.served = served
        planned = ImageClassifier.SharedInferenceSession(classifier: served.classifier, batch: Self.planBatch)
    }

    public func run(_ records: inout [ImageRecord]) {
        let settings = classifier.settings
        let inputs = records.map { record in
            guard let pixels = record.thumbnails[settings.inputSide] else {
                preconditionFailure("no \(settings.inputSide)-pixel copy: ThumbnailStage must keep the classifier's input side")
            }
            return pixels
        }
        // The plan takes its batch at a time; the graph slices: either way the activations'
        // memory is bounded whatever the batch size.
        let gate = self.gate
        let explanations = planned?.explain(inputs, applicabilityPooling: gate?.pooling)
            ?? stride(from: 0, to: inputs.count, by: Self.slice).flatMap { start in
                classifier.explain(Array(inputs[start..<min(start + Self.slice, inputs.count)]), applicabilityPooling: gate?.pooling)
            }
        let assessments = gate.map { $0.assess(pixels: inputs, features: explanations.map { $0.applicabilityFeatures! }) }
        for (index, explanation) in explanations.enumerated() {
            let map = explanation.saliency.resampled(width: settings.inputSide, height: settings.inputSide)
            let grey = GreyImage(width: settings.inputSide, height: settings.inputSide,
                                 pixels: map.map { UInt8(clamping: Int(($0 * 255).rounded())) })
            let probabilities = Dictionary(uniqueKeysWithValues: zip(settings.classes, explanation.probabilities))
            let assessment = assessments?[index]
            records[index].predictions.append(ImagePrediction(
                model: settings.name, modelVersion: settings.version, probabilities: probabilities,
                decision: settings.classes[explanation.decidedClass],
                // A greyscale PNG of a few hundred bytes cannot fail to encode.
                saliencyPNG: (try? PNGEncoder.encode(grey)) ?? [],
                applicable: assessment?.applicable, applicability: assessment?.score))
        }
    }
}
