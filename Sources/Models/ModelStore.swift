import Foundation
import TensorEngine

/// Finds models on disk: the shipped defaults, or what `--model` names.
public enum ModelStore {
    /// The file every model folder keeps its weights in.
    public static let weightsFileName = "model.safetensors"

    /// Where the shipped models are: `$RADSTREAM_MODELS` when set; otherwise the `models/` folder
    /// of the checkout the running binary was built in (found by walking up from the executable,
    /// which lives in `.build/<configuration>/`), otherwise `./models`.
    public static func defaultDirectory() -> URL {
        if let configured = ProcessInfo.processInfo.environment["RADSTREAM_MODELS"], !configured.isEmpty {
            return URL(filePath: configured)
        }
        var folder = URL(filePath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            folder = URL(filePath: executable).deletingLastPathComponent()
        }
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("models")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("README.md").path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return URL(filePath: "models")
    }

    /// Every image classifier at `location`: a checkpoint file, a model folder (holding
    /// `model.safetensors`), or a folder of model folders (the shipped `models/`), in name order.
    /// Checkpoints of other kinds of model (the summarizer, the captioner) are passed over.
    public static func classifiers(at location: URL) throws -> [ImageClassifier] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location.path, isDirectory: &isFolder) else {
            throw CheckpointError("\(location.path): no such model file or folder")
        }
        if !isFolder.boolValue { return [try ImageClassifier(contentsOf: location)] }
        let own = location.appendingPathComponent(weightsFileName)
        if FileManager.default.fileExists(atPath: own.path) { return [try ImageClassifier(contentsOf: own)] }
        let folders = try FileManager.default.contentsOfDirectory(at: location, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        var classifiers: [ImageClassifier] = []
        for folder in folders {
            let weights = folder.appendingPathComponent(weightsFileName)
            guard FileManager.default.fileExists(atPath: weights.path) else { continue }
            let checkpoint = try Safetensors.read(contentsOf: weights)
            guard checkpoint.metadata["format"] == ImageClassifier.checkpointFormat else { continue }
            classifiers.append(try ImageClassifier(checkpoint: checkpoint))
        }
        guard !classifiers.isEmpty else { throw CheckpointError("\(location.path) holds no image classifier") }
        return classifiers
    }
}

extension ModelStore {
    /// The applicability gates kept beside the classifiers at `location` (as `classifiers(at:)`
    /// reads it), by model name. A folder without one has none: its films are not judged.
    public static func applicabilityGates(at location: URL) throws -> [String: ApplicabilityGate] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location.path, isDirectory: &isFolder) else { return [:] }
        let folder = isFolder.boolValue ? location : location.deletingLastPathComponent()
        var folders = [folder]
        if !FileManager.default.fileExists(atPath: folder.appendingPathComponent(weightsFileName).path) {
            folders = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        }
        var gates: [String: ApplicabilityGate] = [:]
        for candidate in folders {
            let file = candidate.appendingPathComponent(ApplicabilityGate.fileName)
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            let gate = try ApplicabilityGate(contentsOf: file)
            gates[gate.model] = gate
        }
        return gates
    }

    /// The classifiers at `location`, each with the gate beside it where that gate was fitted for
    /// its version; a gate left over from an earlier version is not used (its features mean
    /// nothing to this one), and `stale` hears of it.
    public static func gatedClassifiers(at location: URL, stale: (String) -> Void = { _ in }) throws -> [GatedClassifier] {
        let gates = try applicabilityGates(at: location)
        return try classifiers(at: location).map { classifier in
            let gate = gates[classifier.settings.name]
            if let gate, gate.modelVersion != classifier.settings.version {
                stale("the applicability gate of \(gate.model) was fitted for version \(gate.modelVersion), "
                      + "not \(classifier.settings.version): not used")
            }
            return GatedClassifier(classifier, gate: gate?.modelVersion == classifier.settings.version ? gate : nil)
        }
    }
}
