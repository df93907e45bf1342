import Foundation
import TensorEngine

extension ImageClassifier {
    /// The checkpoint format's name and version, in the safetensors header's `__metadata__`.
    public static let checkpointFormat = "radstream.image-classifier.v1"

    /// The weights, and in `__metadata__` the format, the network's configuration and the
    /// settings (JSON): a file Python's `safetensors` reads as it is.
    public func checkpoint() throws -> Safetensors {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Safetensors(tensors: network.checkpointTensors(), metadata: [
            "format": Self.checkpointFormat,
            "network": String(decoding: try encoder.encode(network.configuration), as: UTF8.self),
            "classifier": String(decoding: try encoder.encode(settings), as: UTF8.self),
        ])
    }

    public func save(to url: URL) throws {
        try checkpoint().write(to: url)
    }

    public convenience init(checkpoint: Safetensors) throws {
        let metadata = checkpoint.metadata
        guard metadata["format"] == Self.checkpointFormat else {
            throw CheckpointError("not a RadStream image classifier (format \(metadata["format"] ?? "missing"), expected \(Self.checkpointFormat))")
        }
        guard let network = metadata["network"], let classifier = metadata["classifier"] else {
            throw CheckpointError("the checkpoint's metadata lacks the network or the classifier settings")
        }
        let decoder = JSONDecoder()
        let configuration = try decoder.decode(ResidualCNN.Configuration.self, from: Data(network.utf8))
        let settings = try decoder.decode(Settings.self, from: Data(classifier.utf8))
        guard settings.classes.count == configuration.classes else {
            throw CheckpointError("\(settings.classes.count) class names for \(configuration.classes) logits")
        }
        self.init(network: try ResidualCNN(configuration: configuration, tensors: checkpoint.tensors), settings: settings)
    }

    public convenience init(contentsOf url: URL) throws {
        do {
            try self.init(checkpoint: try Safetensors.read(contentsOf: url))
        } catch let error as CheckpointError {
            throw CheckpointError("\(url.path): \(error.description)")
        }
    }
}
