import Foundation
import Models
import Reports
@testable import Summarization
import TensorEngine
import Testing
import Training
@testable import Captioning

@Suite("Captioner")
struct CaptionerTests {
    /// Made-up reports in the IU style, of both kinds.
    static let reports: [FindingsImpressionPair] = [
        .init(reportID: "1", findings: "There is right lower lobe airspace disease. Heart size is normal.", impression: "Right lower lobe pneumonia."),
        .init(reportID: "2", findings: "Left lower lobe consolidation. No effusion.", impression: "Left lower lobe pneumonia."),
        .init(reportID: "3", findings: "The lungs are clear. Heart size is normal. No pneumothorax.", impression: "No acute cardiopulmonary disease."),
        .init(reportID: "4", findings: "Clear lungs. Normal heart. No effusion or pneumothorax.", impression: "No acute disease."),
        .init(reportID: "6", findings: "Small left pleural effusion.", impression: "Left pleural effusion."),
    ]

    /// 28×28 made-up films: pneumonia ones brighter in the lower half.
    static func images(count: Int, seed: UInt64) -> LabeledImageSet {
        var generator = SeededGenerator(seed: seed)
        let images = (0..<count).map { index -> LabeledImage in
            let label = index % 2
            let pixels = (0..<784).map { i in UInt8(clamping: Int(generator.uniform(60, 120)) + (label == 1 && i >= 392 ? 90 : 0)) }
            return LabeledImage(file: "\(index).png", pixels: pixels, label: label, group: "\(index)")
        }
        return LabeledImageSet(classes: ["normal", "pneumonia"], side: 28, images: images)
    }

    static func summarizer() throws -> Summarizer {
        var options = SummarizerTrainingOptions()
        (options.width, options.heads, options.layers, options.feedForward) = (32, 2, 1, 64)
        (options.minimumWordCount, options.batchSize, options.epochs, options.dropout, options.learningRate) = (1, 4, 20, 0, 3e-3)
        return try SummarizerTrainer(options: options).train(training: reports)
    }

    static func trunk() -> ImageClassifier {
        ImageClassifier(network: ResidualCNN(configuration: .init(channels: [4, 4, 8], classes: 2), seed: 1),
                        settings: .init(name: "pneumonia", classes: ["normal", "pneumonia"], inputSide: 28))
    }

    @Test func pairingGivesEachLabelAReportOfItsKindReproducibly() {
        let pairing = CaptionPairing(reports: Self.reports)
        #expect(pairing.pneumonia.map(\.reportID) == ["1", "2"])
        #expect(pairing.normal.map(\.reportID) == ["3", "4"])
        let labels = [1, 0, 1, 1, 0, 0, 1]
        let paired = pairing.reports(for: labels, seed: 7)
        #expect(zip(labels, paired).allSatisfy { ($0 == 1) == ["1", "2"].contains($1.reportID) })
        #expect(paired.map(\.reportID) == pairing.reports(for: labels, seed: 7).map(\.reportID))
    }

    @Test func clinicalEfficacyReadsTheFindingInTheImpression() {
        let efficacy = ClinicalEfficacy(captions: ["Right lower lobe pneumonia.", "No acute disease.", "Possible pneumonia.", "No focal consolidation."],
                                        labels: [1, 0, 0, 1])
        #expect(efficacy.images == 4 && efficacy.accuracy == 0.5 && efficacy.sensitivity == 0.5 && efficacy.specificity == 0.5)
    }

    /// The distillation loss vanishes when the teacher's distributions are the student's own.
    @Test func theDistillationLossIsZeroWhenStudentAndTeacherAgree() {
        let model = SummarizerTransformer(configuration: .init(vocabularySize: 20, width: 16, heads: 2, encoderLayers: 1, decoderLayers: 1,
                                                               feedForward: 32, maximumLength: 16), seed: 2)
        var generator = SeededGenerator(seed: 3)
        let memory = SummarizerTransformer.Memory(encoded: Tensor(shape: [2 * 5, 16], data: (0..<160).map { _ in generator.normal() }),
                                                  batch: 2, length: 5)
        let targets = [[2, 5, 6, 7, 3], [2, 8, 3, 0, 0]]
        let output = model.decode(targets.map { Array($0.dropLast()) }, memory: memory)
        let own = (0..<4).map { model.nextTokenDistribution(output, lastPositions: [$0, $0], memory: memory) }
        let teacher = [own[0][0], own[1][0], own[2][0], own[3][0], own[0][1], own[1][1]]
        let agreeing = model.losses(memory: memory, targets: targets, teacher: teacher, temperature: 1).distillation!
        #expect(abs(agreeing.item) < 1e-5)
        let uniform = [[Float]](repeating: [Float](repeating: 1 / 20, count: 20), count: 6)
        #expect(model.losses(memory: memory, targets: targets, teacher: uniform, temperature: 2).distillation!.item > 0.01)
    }

    @Test func aFewTrainingStepsLowerBothLossesAndTheCheckpointRoundTrips() throws {
        let images = Self.images(count: 64, seed: 1)
        let pairing = CaptionPairing(reports: Self.reports)
        var options = CaptionerTrainingOptions()
        (options.epochs, options.batchSize, options.learningRate, options.dropout) = (12, 16, 3e-3, 0)
        var history: [CaptionerProgress] = []
        let captioner = try CaptionerTrainer(options: options).train(
            images: images, reports: pairing.reports(for: images.images.map(\.label), seed: 1), trunk: Self.trunk(),
            summarizer: try Self.summarizer()) { history.append($0) }
        #expect(history.last!.crossEntropy < history.first!.crossEntropy * 0.7, "\(history.map(\.crossEntropy))")
        #expect(history.last!.distillation! < history.first!.distillation!, "\(history.map { $0.distillation! })")
        #expect(captioner.settings.distilled && captioner.settings.version != "untrained")

        let folder = FileManager.default.temporaryDirectory.appending(path: "captioner-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try captioner.save(to: folder)
        let loaded = try Captioner(contentsOf: folder)
        let pixels = images.images.prefix(6).map(\.pixels)
        #expect(loaded.caption(pixels, decoding: .greedy) == captioner.caption(pixels, decoding: .greedy))
        #expect(loaded.caption(pixels).count == 6 && loaded.settings == captioner.settings)
    }
}
