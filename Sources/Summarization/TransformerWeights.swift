import Foundation
import TensorEngine

/// The transformer's weights as plain arrays, read once from a model whose weights are fixed:
/// what the inference plans (`EncoderPlan`, `DecoderPlan`) multiply by.
struct TransformerWeights: Sendable {
    struct Linear: Sendable {
        /// (inputs, outputs), row-major, as the checkpoint holds it.
        let weight: [Float], bias: [Float]
        let inputs: Int, outputs: Int
    }

    struct Norm: Sendable {
        let scale: [Float], shift: [Float]
    }

    struct Layer: Sendable {
        let attentionNorm: Norm, qkv: Linear, attentionOut: Linear
        let crossNorm: Norm, crossQuery: Linear, crossKeysAndValues: Linear, crossOut: Linear
        let feedForwardNorm: Norm, feedForwardIn: Linear, feedForwardOut: Linear
    }

    struct EncoderLayer: Sendable {
        let attentionNorm: Norm, qkv: Linear, attentionOut: Linear
        let feedForwardNorm: Norm, feedForwardIn: Linear, feedForwardOut: Linear
    }

    let embedding: [Float], position: [Float]
    /// Eᵀ (width, vocabulary).
    let outputProjection: [Float]
    let encoderLayers: [EncoderLayer]
    let encoderNorm: Norm
    let layers: [Layer]
    let finalNorm: Norm
    let copyQuery: Linear, copyGate: Linear
    /// Greedy decoding's shortcut past the full vocabulary projection, shared by every plan of
    /// these weights (it learns its basis from the states they compute).
    let mostLikelyScreen: MostLikelyTokenScreen

    init(_ parameters: [String: Tensor], outputProjection: Tensor, configuration: SummarizerTransformer.Configuration) {
        func linear(_ name: String) -> Linear {
            let weight = parameters["\(name).weight"]!
            return Linear(weight: weight.data, bias: parameters["\(name).bias"]!.data, inputs: weight.shape[0], outputs: weight.shape[1])
        }
        func norm(_ name: String) -> Norm { Norm(scale: parameters["\(name).weight"]!.data, shift: parameters["\(name).bias"]!.data) }
        embedding = parameters["embedding"]!.data
        position = parameters["position"]!.data
        self.outputProjection = outputProjection.data
        encoderLayers = (0..<configuration.encoderLayers).map { layer in
            let name = "encoder.\(layer)"
            return EncoderLayer(attentionNorm: norm("\(name).attention_norm"), qkv: linear("\(name).attention.qkv"),
                                attentionOut: linear("\(name).attention.out"), feedForwardNorm: norm("\(name).feed_forward_norm"),
                                feedForwardIn: linear("\(name).feed_forward.in"), feedForwardOut: linear("\(name).feed_forward.out"))
        }
        encoderNorm = norm("encoder.norm")
        layers = (0..<configuration.decoderLayers).map { layer in
            let name = "decoder.\(layer)"
            return Layer(attentionNorm: norm("\(name).attention_norm"), qkv: linear("\(name).attention.qkv"),
                         attentionOut: linear("\(name).attention.out"), crossNorm: norm("\(name).cross_norm"),
                         crossQuery: linear("\(name).cross.q"), crossKeysAndValues: linear("\(name).cross.kv"),
                         crossOut: linear("\(name).cross.out"), feedForwardNorm: norm("\(name).feed_forward_norm"),
                         feedForwardIn: linear("\(name).feed_forward.in"), feedForwardOut: linear("\(name).feed_forward.out"))
        }
        finalNorm = norm("decoder.norm")
        copyQuery = linear("copy.query")
        copyGate = linear("copy.gate")
        mostLikelyScreen = MostLikelyTokenScreen(width: configuration.width, vocabulary: configuration.vocabularySize)
    }
}
