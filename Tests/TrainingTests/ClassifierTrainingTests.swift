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

    /// The strong augmentation rotates, scales and changes gamma, yet stays an image of the same
    /// film: on average near it, never outside the range a shift and exposure change allow.
    @Test func strongAugmentationRotatesScalesAndStaysNearTheImage() {
        let side = 16
        let pixels = (0..<(side * side)).map { UInt8((($0 / side) * 16 + ($0 % side) * 2) % 256) }
        var output = [Float](repeating: 0, count: side * side), light = output
        var generator = SeededGenerator(seed: 3), twin = SeededGenerator(seed: 3)
        var totalChange: Float = 0
        for _ in 0..<20 {
            output.withUnsafeMutableBufferPointer { Augmentation.strong.apply(pixels, side: side, into: $0, using: &generator) }
            #expect(output.allSatisfy { (-0.4...1.4).contains($0) })
            totalChange += zip(output, pixels).map { abs($0 - Float($1) / 255) }.reduce(0, +) / Float(side * side)
        }
        let meanChange = totalChange / 20
        #expect(meanChange > 0.01 && meanChange < 0.25, "mean change \(meanChange)")
        // Without rotation, scale and gamma it is the light augmentation, draw for draw.
        var noGeometry = Augmentation.strong
        (noGeometry.maxRotation, noGeometry.maxScale, noGeometry.maxLogGamma) = (0, 0, 0)
        output.withUnsafeMutableBufferPointer { noGeometry.apply(pixels, side: side, into: $0, using: &twin) }
        var reference = SeededGenerator(seed: 3)
        light.withUnsafeMutableBufferPointer {
            Augmentation(maxShift: 2, maxBrightness: 0.1, maxContrast: 0.2).apply(pixels, side: side, into: $0, using: &reference)
        }
        #expect(output == light)
    }

    /// Manifests written before rotation, scale and gamma existed still read.
    @Test func anOlderAugmentationRecordReadsAsNoRotation() throws {
        let old = #"{"maxShift": 2, "maxBrightness": 0.1, "maxContrast": 0.15}"#
        let read = try JSONDecoder().decode(Augmentation.self, from: Data(old.utf8))
        #expect(read == Augmentation())
    }

    /// Folds are stratified, never split a patient, and every image is measured once.
    @Test func foldsAreStratifiedAndKeepPatientsTogether() {
        let images = (0..<60).map { index in
            LabeledImage(file: "\(index)", pixels: [], label: index % 3 == 0 ? 1 : 0, group: "patient-\(index / 2)")
        }
        let set = LabeledImageSet(classes: ["a", "b"], side: 1, images: images)
        let folds = ClassifierCrossValidation(folds: 5, seed: 4).assignment(of: set)
        #expect(Set(folds) == Set(0..<5))
        for patient in 0..<30 { #expect(folds[2 * patient] == folds[2 * patient + 1], "patient \(patient) split") }
        for fold in 0..<5 {
            let members = set.images.indices.filter { folds[$0] == fold }
            #expect(members.count == 12)
            #expect(members.contains { images[$0].label == 1 })
        }
        #expect(folds == ClassifierCrossValidation(folds: 5, seed: 4).assignment(of: set), "seeded")
    }

    /// A cross-validation on real films: a model per fold, each measured on its own fold at a
    /// calibration fitted on the others; the served temperature and threshold come from every
    /// out-of-fold prediction.
    @Test func crossValidationMeasuresEachFoldAndFitsTheServedCalibration() throws {
        let films = try BinaryLabelFolder.load(Self.pneumonia.appending(path: "val"), side: 28)
        var options = ClassifierTrainingOptions()
        options.epochs = 2
        options.batchSize = 32
        options.channels = [4, 8, 8]
        var epochs = 0
        let report = try ClassifierCrossValidation(folds: 3).run(ClassifierTrainer(name: "pneumonia", options: options), on: films) { _, _ in
            epochs += 1
        }
        #expect(epochs == 6 && report.perFold.count == 3)
        #expect(report.perFold.map(\.images).reduce(0, +) == films.count)
        #expect(report.perFold.allSatisfy { $0.auc > 0.7 && $0.balancedAccuracy! > 0.5 }, "\(report.perFold)")
        #expect(report.threshold! > 0 && report.threshold! < 1 && report.temperature > 0)
        #expect(abs(report.auc.mean - report.perFold.map(\.auc).reduce(0, +) / 3) < 1e-12)
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
