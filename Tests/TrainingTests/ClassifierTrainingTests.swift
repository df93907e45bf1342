import Foundation
import Models
import TensorEngine
import TestSupport
import Testing
@testable import Training

@Suite("Training a classifier")
struct ClassifierTrainingTests {
    static let pneumonia = TestData.root.appending(path: "pneumoniamnist")

    @Test func theLabelFolderIsReadWithItsClasses() throws {
        let validation = try BinaryLabelFolder.load(Self.pneumonia.appending(path: "val"), side: 28)
        #expect(validation.classes == ["normal", "pneumonia"])
        #expect(validation.count == 524 && validation.classCounts == [135, 389])
        #expect(validation.images.allSatisfy { $0.pixels.count == 784 })
    }

    @Test func aBrokenLabelFolderIsRefusedWithTheReason() throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "labels-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: DatasetError.self) { try BinaryLabelFolder.load(folder, side: 28) }  // no labels.csv
        try "file,pneumonia\n../x.png,1\n".write(to: folder.appending(path: "labels.csv"), atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.self) { try BinaryLabelFolder.load(folder, side: 28) }  // a path, not a name
        try "file,pneumonia\nmissing.png,1\n".write(to: folder.appending(path: "labels.csv"), atomically: true, encoding: .utf8)
        let error = #expect(throws: DatasetError.self) { try BinaryLabelFolder.load(folder, side: 28) }
        #expect(error?.description.contains("missing.png") == true)
    }

    @Test func aFractionIsStratifiedAndSeeded() throws {
        let validation = try BinaryLabelFolder.load(Self.pneumonia.appending(path: "val"), side: 28)
        let tenth = validation.fraction(0.1, seed: 4)
        #expect(tenth.classCounts == [14, 39])
        #expect(tenth.images.map(\.file) == validation.fraction(0.1, seed: 4).images.map(\.file))
        #expect(tenth.images.map(\.file) != validation.fraction(0.1, seed: 5).images.map(\.file))
    }

    @Test func augmentationShiftsAndStaysNearTheImage() {
        let side = 8
        let pixels = (0..<(side * side)).map { UInt8(($0 % side) * 30) }  // a horizontal ramp
        var output = [Float](repeating: 0, count: side * side)
        var generator = SeededGenerator(seed: 1)
        var differs = false
        for _ in 0..<10 {
            output.withUnsafeMutableBufferPointer { Augmentation().apply(pixels, side: side, into: $0, using: &generator) }
            #expect(output.allSatisfy { (-0.3...1.3).contains($0) })
            differs = differs || zip(output, pixels).contains { abs($0 - Float($1) / 255) > 0.05 }
        }
        #expect(differs)
    }

    /// Real images, a small network, two epochs: the loss falls and the validation AUC is far above
    /// chance; the outcome is calibrated and carries a threshold.
    @Test func aFewEpochsOnRealImagesLearn() throws {
        let training = try BinaryLabelFolder.load(Self.pneumonia.appending(path: "val"), side: 28)
        var options = ClassifierTrainingOptions()
        options.epochs = 3
        options.batchSize = 32
        options.channels = [4, 8, 8]
        options.seed = 2
        var losses: [Double] = []
        let subset = training.fraction(0.5, seed: 1)
        let outcome = try ClassifierTrainer(name: "pneumonia", options: options)
            .train(training: subset, validation: training) { losses.append($0.trainingLoss) }
        #expect(losses.count == 3 && losses.last! < losses.first!, "losses \(losses)")
        #expect(outcome.validation.auc > 0.85, "AUC \(outcome.validation.auc)")
        #expect(outcome.classifier.settings.threshold != nil && outcome.classifier.settings.temperature > 0)
        #expect(outcome.validation.negativeLogLikelihood <= outcome.uncalibratedValidation.negativeLogLikelihood + 1e-9)
        #expect(outcome.classifier.settings.version != "untrained")
    }
}
