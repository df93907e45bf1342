import Foundation

/// A classifier's training and validation images, from either layout `train classifier` reads:
/// - a folder with `train/` and `val/` in the PneumoniaMNIST layout (the split is the collection's);
/// - the COVID-19 collection (`metadata.csv`, `images/`), split by patient here, seeded.
public struct TrainingData: Sendable {
    public let training: LabeledImageSet
    public let validation: LabeledImageSet
    /// How the split was made and what was left out, for the manifest.
    public let split: String
    /// The collection's name for its positive finding (binary) or its own name.
    public let name: String
    /// Films of the collection whose class is unknown, of patients with no validation film
    /// (COVID-19 collection only): of the training population, for what needs no label.
    public var unlabelled: [LabeledImage] = []

    public static func load(_ path: String, side: Int, validationShare: Double = 0.2, splitSeed: UInt64 = 1) throws -> TrainingData {
        let folder = URL(filePath: path)
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("metadata.csv").path) {
            let contents = try CovidCollection.load(folder, side: side)
            let (training, validation) = contents.set.splitByGroup(validationShare: validationShare, seed: splitSeed)
            let leftOut = contents.leftOut.sorted { $0.key < $1.key }.map { "\($0.key.isEmpty ? "(blank)" : $0.key) \($0.value)" }
            let validationPatients = Set(validation.images.map(\.group))
            return TrainingData(
                training: training, validation: validation,
                split: "by patient: \(Int(validationShare * 100))% of each class's patients to validation, seed \(splitSeed); left out (class unknown): \(leftOut.joined(separator: ", "))",
                name: "covid", unlabelled: contents.unlabelled.filter { !validationPatients.contains($0.group) })
        }
        let training = try BinaryLabelFolder.load(folder.appendingPathComponent("train"), side: side)
        let validation = try BinaryLabelFolder.load(folder.appendingPathComponent("val"), side: side)
        return TrainingData(training: training, validation: validation, split: "the collection's own train/ and val/", name: training.classes[1])
    }
}
