import Foundation
import Reports
import TensorEngine
import Testing
@testable import Summarization

@Suite("Denoising pretraining")
struct DenoisingPretrainingTests {
    static let vocabulary = ReportVocabulary(building: SummarizerModelTests.pairs.flatMap { [$0.findings, $0.impression] }, minimumCount: 1)

    /// Passages are whole sentences, in order, no longer than asked; a sentence longer than a
    /// passage is cut, and nothing of fewer than 3 tokens is kept.
    @Test func passagesGatherWholeSentencesUpToTheirLength() {
        let text = "There is right upper lobe airspace disease. Heart size is normal. No pneumothorax."
        let sentences = ["There is right upper lobe airspace disease.", "Heart size is normal.", "No pneumothorax."].map(Self.vocabulary.encode)
        #expect(sentences.map(\.count) == [8, 5, 3])
        #expect(DenoisingPretraining.passages([text], vocabulary: Self.vocabulary, maximumLength: 60) == [sentences.flatMap { $0 }])
        #expect(DenoisingPretraining.passages([text], vocabulary: Self.vocabulary, maximumLength: 8)
            == [sentences[0], sentences[1] + sentences[2]])
        #expect(DenoisingPretraining.passages([text], vocabulary: Self.vocabulary, maximumLength: 6)
            == [Array(sentences[0].prefix(6)), sentences[1], sentences[2]])
        #expect(DenoisingPretraining.passages(["Clear.", ""], vocabulary: Self.vocabulary, maximumLength: 60).isEmpty)
    }

    /// What is left of a corrupted passage is the passage in order, with its gaps marked by
    /// `<unk>`, at least the share asked for cut out and never all of it; the same seed
    /// cuts the same spans.
    @Test func corruptionCutsSpansAndMarksEachGapOnce() {
        let passage = Array(10..<60)
        var generator = SeededGenerator(seed: 7)
        for rate: Float in [0.1, 0.3, 0.6, 0.99] {
            for _ in 0..<20 {
                let corrupted = DenoisingPretraining.corrupted(passage, rate: rate, using: &generator)
                let kept = corrupted.filter { $0 != ReportVocabulary.unknown }
                #expect(kept == passage.filter(kept.contains), "the kept tokens are in order")
                #expect(!kept.isEmpty)
                #expect(passage.count - kept.count >= min(passage.count - 1, Int((rate * Float(passage.count)).rounded(.up))))
                #expect(corrupted.contains(ReportVocabulary.unknown))
            }
        }
        var first = SeededGenerator(seed: 3), second = SeededGenerator(seed: 3)
        #expect(DenoisingPretraining.corrupted(passage, rate: 0.3, using: &first) == DenoisingPretraining.corrupted(passage, rate: 0.3, using: &second))
        var any = SeededGenerator(seed: 1)
        #expect(DenoisingPretraining.corrupted([4, 5], rate: 0, using: &any) == [4, 5])
    }

    /// Denoising epochs change the model the summarizing epochs start from (and so the trained
    /// weights), are reported apart, and with none the training is what it was.
    @Test func pretrainingRunsBeforeSummarizingAndOnlyWhenAsked() throws {
        var options = SummarizerModelTests.tinyOptions
        options.epochs = 2
        var pretraining: [SummarizerProgress] = [], summarizing: [SummarizerProgress] = []
        let plain = try SummarizerTrainer(options: options).train(training: SummarizerModelTests.pairs)
        let again = try SummarizerTrainer(options: options).train(training: SummarizerModelTests.pairs)
        options.pretrainingEpochs = 3
        let pretrained = try SummarizerTrainer(options: options).train(training: SummarizerModelTests.pairs) { progress in
            if progress.isPretraining { pretraining.append(progress) } else { summarizing.append(progress) }
        }
        #expect(pretraining.map(\.epoch) == [1, 2, 3] && summarizing.map(\.epoch) == [1, 2])
        #expect(pretraining.allSatisfy { $0.trainingLoss.isFinite && $0.trainingLoss > 0 })
        #expect(plain.model.parameters.mapValues(\.data) == again.model.parameters.mapValues(\.data))
        #expect(plain.model.parameters.mapValues(\.data) != pretrained.model.parameters.mapValues(\.data))
    }

    /// Manifests written before denoising existed still read, as no pretraining.
    @Test func optionsWithoutPretrainingReadAsNone() throws {
        var options = SummarizerTrainingOptions()
        options.pretrainingEpochs = 5
        var object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(options)) as? [String: Any])
        #expect(object["pretrainingEpochs"] as? Int == 5)
        object["pretrainingEpochs"] = nil
        object["pretrainingMaskRate"] = nil
        let read = try JSONDecoder().decode(SummarizerTrainingOptions.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(read.pretrainingEpochs == 0 && read.pretrainingMaskRate == 0.3)
        #expect(read.width == options.width && read.epochs == options.epochs)
    }
}
