import Foundation
import Imaging
import TensorEngine

/// One labelled training or validation image, already reduced to the model's input.
public struct LabeledImage: Sendable {
    /// The file's name inside its folder.
    public let file: String
    /// side × side greyscale bytes: centre crop and area average, as the daemon and `classify` make them.
    public let pixels: [UInt8]
    /// The class index.
    public let label: Int
    /// Images of one patient share a group; splits never separate a group.
    public let group: String

    public init(file: String, pixels: [UInt8], label: Int, group: String) {
        self.file = file
        self.pixels = pixels
        self.label = label
        self.group = group
    }
}

/// A labelled image collection: its class names and its images.
public struct LabeledImageSet: Sendable {
    public let classes: [String]
    public let side: Int
    public var images: [LabeledImage]

    public init(classes: [String], side: Int, images: [LabeledImage]) {
        self.classes = classes
        self.side = side
        self.images = images
    }

    public var count: Int { images.count }

    /// How many images each class has.
    public var classCounts: [Int] {
        images.reduce(into: [Int](repeating: 0, count: classes.count)) { $0[$1.label] += 1 }
    }

    /// A seeded, stratified share of the images (at least one per class that has any): the
    /// "few labels" a self-training run starts from.
    public func fraction(_ share: Double, seed: UInt64) -> LabeledImageSet {
        guard share < 1 else { return self }
        var generator = SeededGenerator(seed: seed)
        var kept: [LabeledImage] = []
        for label in classes.indices {
            var members = images.filter { $0.label == label }
            guard !members.isEmpty else { continue }
            members.shuffle(using: &generator)
            kept += members.prefix(max(1, Int((share * Double(members.count)).rounded())))
        }
        return LabeledImageSet(classes: classes, side: side, images: kept.sorted { $0.file < $1.file })
    }

    /// Reads every image listed by a CSV, decoding and reducing them on every core. A file that
    /// cannot be read is an error naming it: a training set with holes is not silently smaller.
    static func load(folder: URL, entries: [(file: String, label: Int, group: String)], classes: [String],
                     side: Int) throws -> LabeledImageSet {
        let decoder = ImageDecoder()
        let results = concurrentMap(entries.count) { index -> Result<LabeledImage, DatasetError> in
            let entry = entries[index]
            let url = folder.appendingPathComponent(entry.file)
            do {
                let bytes = try [UInt8](Data(contentsOf: url))
                let image = try decoder.decode(bytes).image.thumbnail(side: side)
                return .success(LabeledImage(file: entry.file, pixels: image.pixels, label: entry.label, group: entry.group))
            } catch {
                return .failure(DatasetError("\(url.path): \(error)"))
            }
        }
        return LabeledImageSet(classes: classes, side: side, images: try results.map { try $0.get() })
    }
}

/// Why a dataset could not be read.
public struct DatasetError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension LabeledImageSet {
    /// Splits by group (patient), so that no patient is on both sides: each class's patients (by
    /// the class of their first image) are shuffled with the seed and `validationShare` of them,
    /// at least one where a class has two or more, go to validation.
    public func splitByGroup(validationShare: Double, seed: UInt64) -> (training: LabeledImageSet, validation: LabeledImageSet) {
        var classOfGroup: [String: Int] = [:]
        for image in images where classOfGroup[image.group] == nil { classOfGroup[image.group] = image.label }
        var generator = SeededGenerator(seed: seed)
        var validationGroups: Set<String> = []
        for label in classes.indices {
            var groups = classOfGroup.filter { $0.value == label }.keys.sorted()
            guard groups.count >= 2 else { continue }
            groups.shuffle(using: &generator)
            validationGroups.formUnion(groups.prefix(max(1, Int((validationShare * Double(groups.count)).rounded()))))
        }
        let training = images.filter { !validationGroups.contains($0.group) }
        let validation = images.filter { validationGroups.contains($0.group) }
        return (LabeledImageSet(classes: classes, side: side, images: training),
                LabeledImageSet(classes: classes, side: side, images: validation))
    }
}
