import Foundation
import Models
import Summarization
import TensorEngine

extension Captioner {
    /// The checkpoint format's name and version, in the safetensors header's `__metadata__`.
    public static let checkpointFormat = "radstream.captioner.v1"

    /// Every weight: the trunk's (`trunk.`), the image projection's (`image.`), the decoder's (`decoder.`).
    public func checkpointTensors() -> [String: Tensor] {
        var tensors = parameters.mapValues { $0.detached() }
        for (name, tensor) in trunk.network.checkpointTensors() { tensors["trunk.\(name)"] = tensor }
        for (name, tensor) in decoder.parameters { tensors["decoder.\(name)"] = tensor.detached() }
        return tensors
    }

    /// Writes `model.safetensors` (configurations and settings in `__metadata__`) and
    /// `vocabulary.txt` into `directory`.
    public func save(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func json(_ value: some Encodable) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Safetensors(tensors: checkpointTensors(), metadata: [
            "format": Self.checkpointFormat,
            "trunk.network": try json(trunk.network.configuration),
            "trunk.classifier": try json(trunk.settings),
            "transformer": try json(decoder.configuration),
            "captioner": try json(settings),
        ]).write(to: directory.appendingPathComponent(ModelStore.weightsFileName))
        try Data((vocabulary.tokens.joined(separator: "\n") + "\n").utf8)
            .write(to: directory.appendingPathComponent(Summarizer.vocabularyFileName))
    }

    /// Loads a captioner folder written by `save(to:)`.
    public convenience init(contentsOf directory: URL) throws {
        do {
            let checkpoint = try Safetensors.read(contentsOf: directory.appendingPathComponent(ModelStore.weightsFileName))
            let metadata = checkpoint.metadata
            guard metadata["format"] == Self.checkpointFormat else {
                throw CheckpointError("not a RadStream captioner (format \(metadata["format"] ?? "missing"), expected \(Self.checkpointFormat))")
            }
            guard let network = metadata["trunk.network"], let classifier = metadata["trunk.classifier"],
                  let transformer = metadata["transformer"], let captioner = metadata["captioner"] else {
                throw CheckpointError("the checkpoint's metadata lacks a configuration or the settings")
            }
            func part(_ prefix: String) -> [String: Tensor] {
                Dictionary(uniqueKeysWithValues: checkpoint.tensors.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
            }
            let trunk = try ImageClassifier(checkpoint: Safetensors(tensors: part("trunk."), metadata: [
                "format": ImageClassifier.checkpointFormat, "network": network, "classifier": classifier]))
            let configuration = try JSONDecoder().decode(SummarizerTransformer.Configuration.self, from: Data(transformer.utf8))
            let decoder = try SummarizerTransformer(configuration: configuration, tensors: part("decoder."))
            let vocabulary = try ReportVocabulary(contentsOf: directory.appendingPathComponent(Summarizer.vocabularyFileName),
                                                  expectedCount: configuration.vocabularySize)
            let settings = try JSONDecoder().decode(Settings.self, from: Data(captioner.utf8))
            let image = part("image.")
            let fresh = Captioner(trunk: trunk, decoder: decoder, vocabulary: vocabulary, settings: settings, seed: 0)
            var parameters: [String: Tensor] = [:]
            for (name, parameter) in fresh.parameters {
                guard let stored = image[String(name.dropFirst("image.".count))], stored.shape == parameter.shape else {
                    throw CheckpointError("the checkpoint lacks \(name) or has it in another shape")
                }
                parameters[name] = Tensor(shape: stored.shape, data: stored.data)
            }
            self.init(trunk: trunk, decoder: decoder, vocabulary: vocabulary, settings: settings, parameters: parameters)
        } catch let error as CheckpointError {
            throw CheckpointError("\(directory.path): \(error.description)")
        }
    }
}
