import Foundation
import Models
import TensorEngine

/// A trained joint diffusion model as RadStream keeps and runs it: the U-Net with its classifier
/// head, the noise schedule it was trained with, and the head's classifier settings (name,
/// classes, input side, pixel scaling to [−1, 1], temperature and threshold) in the classifiers'
/// own terms, so that its calls read as any other classifier's.
public final class JointDiffusionModel: @unchecked Sendable {  // read-only once built: the network is frozen
    public static let checkpointFormat = "radstream.joint-diffusion.v1"
    /// Its folder among the shipped models.
    public static let folderName = "diffusion"

    public let network: DiffusionUNet
    public let schedule: NoiseSchedule
    public let settings: ImageClassifier.Settings
    /// ᾱ for every step of the schedule.
    public let alphaBars: [Double]

    public init(network: DiffusionUNet, schedule: NoiseSchedule, settings: ImageClassifier.Settings) {
        self.network = network
        self.schedule = schedule
        self.settings = settings
        alphaBars = schedule.alphaBars
    }

    /// Pixel scaling of the joint model: byte / 255 mapped onto [−1, 1].
    public static func settings(name: String, classes: [String], side: Int) -> ImageClassifier.Settings {
        ImageClassifier.Settings(name: name, classes: classes, inputSide: side, pixelMean: 0.5, pixelStandardDeviation: 0.5)
    }

    /// Images (bytes, side × side) as the network reads them.
    public func input(_ images: [[UInt8]]) -> Tensor {
        let side = settings.inputSide
        precondition(images.allSatisfy { $0.count == side * side }, "images must be \(side)×\(side)")
        let scale = 1 / settings.pixelStandardDeviation
        return Tensor(shape: [images.count, 1, side, side],
                      data: images.flatMap { $0.map { (Float($0) / 255 - settings.pixelMean) * scale } })
    }

    /// The head's logits for clean images, in slices of 256.
    public func logits(_ images: [[UInt8]]) -> [[Float]] {
        let frozen = network.frozen(), classes = settings.classes.count
        return stride(from: 0, to: images.count, by: 256).flatMap { start -> [[Float]] in
            let out = frozen.logits(input(Array(images[start..<min(start + 256, images.count)]))).data
            return (0..<(out.count / classes)).map { Array(out[($0 * classes)..<(($0 + 1) * classes)]) }
        }
    }

    // MARK: Checkpoint

    public func checkpoint() throws -> Safetensors {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func json(_ value: some Encodable) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        return Safetensors(tensors: network.parameters, metadata: [
            "format": Self.checkpointFormat, "network": try json(network.configuration),
            "schedule": try json(schedule), "classifier": try json(settings),
        ])
    }

    public func save(to url: URL) throws {
        try checkpoint().write(to: url)
    }

    public convenience init(checkpoint: Safetensors) throws {
        let metadata = checkpoint.metadata
        guard metadata["format"] == Self.checkpointFormat, let network = metadata["network"], let schedule = metadata["schedule"],
              let classifier = metadata["classifier"] else {
            throw CheckpointError("not a RadStream joint diffusion model (format \(metadata["format"] ?? "missing"), expected \(Self.checkpointFormat))")
        }
        let decoder = JSONDecoder()
        let configuration = try decoder.decode(DiffusionUNet.Configuration.self, from: Data(network.utf8))
        let unet = try DiffusionUNet(configuration: configuration, seed: 0)
        for (name, parameter) in unet.parameters {
            guard let stored = checkpoint.tensors[name], stored.shape == parameter.shape else {
                throw CheckpointError("the checkpoint has no \(name) of shape \(parameter.shape)")
            }
            parameter.data = stored.data
        }
        guard checkpoint.tensors.count == unet.parameters.count else {
            throw CheckpointError("the checkpoint holds \(checkpoint.tensors.count) tensors, the network \(unet.parameters.count)")
        }
        self.init(network: unet, schedule: try decoder.decode(NoiseSchedule.self, from: Data(schedule.utf8)),
                  settings: try decoder.decode(ImageClassifier.Settings.self, from: Data(classifier.utf8)))
    }

    /// Whether `url` (a model file, or a folder holding `model.safetensors`) is a joint diffusion
    /// model's checkpoint: reads the header only.
    public static func isCheckpoint(at url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: weightsFile(at: url)), let length = try? handle.read(upToCount: 8),
              length.count == 8 else { return false }
        let size = length.enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard size > 0, size < 1 << 24, let header = try? handle.read(upToCount: size) else { return false }
        return String(decoding: header, as: UTF8.self).contains("\"\(checkpointFormat)\"")
    }

    static func weightsFile(at url: URL) -> URL {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) && isFolder.boolValue
            ? url.appending(path: ModelStore.weightsFileName) : url
    }

    /// A model file, or a model folder holding `model.safetensors`.
    public convenience init(contentsOf url: URL) throws {
        let file = Self.weightsFile(at: url)
        do {
            try self.init(checkpoint: try Safetensors.read(contentsOf: file))
        } catch let error as CheckpointError {
            throw CheckpointError("\(file.path): \(error.description)")
        }
    }
}
