@testable import Captioning
import Events
import Foundation
import Imaging
import Kafka
import Models
import TestSupport
import Testing
@testable import Pipeline

@Suite("The captioner stage, with the shipped model")
struct CaptionerStageTests {
    static let data = TestData.root
    static let models = TestData.packageRoot.appending(path: "models")

    /// Each image of a batch gets the impression the captioner writes for it alone (greedy), the
    /// model's version, and the labeler's reading of pneumonia in it.
    @Test func everyImageOfABatchGetsItsGeneratedImpression() throws {
        var configuration = RadStreamConfiguration.standard
        configuration.images.allowedRoots = [Self.data.path]
        configuration.models.directory = Self.models.path
        configuration.models.classifyImages = false
        configuration.models.summarizeReports = false
        let processor = try EventProcessor(configuration: configuration)
        let captioner = try Captioner(contentsOf: Self.models.appending(path: "captioner"))
        let files = ["pneumoniamnist/val/val_00000.png", "pneumoniamnist/val/val_00003.png", "samples/iu_1000_IM-0003-2001.png"]
        let messages = files.enumerated().map { index, file in
            let event = Event.image(ImageEvent(eventID: "e\(index)", studyID: "s", imageID: "i\(index)",
                                               uri: Self.data.appending(path: file).absoluteString))
            return KafkaMessage(topic: "t", partition: 0, offset: Int64(index), key: nil, value: event.encoded())
        }
        let records = processor.process(messages).map { event -> ImageRecord? in if case .image(let record) = event.payload { record } else { nil } }
        let alone = captioner.caption(records.map { $0!.thumbnails[28]! }, decoding: .greedy)
        #expect(records.map { $0?.generatedImpression } == alone)
        #expect(records.allSatisfy { $0?.captionerVersion == captioner.settings.version && $0?.generatedStatesPneumonia != nil })
    }

    /// A captioner whose trunk is a classifier the stream runs (the same weights) reads that
    /// classifier's last-stage maps instead of running the network again: the impressions it
    /// writes alone, and no classifier with other weights keeps its maps.
    @Test func aCaptionerWhoseTrunkIsAServedClassifierReadsItsMaps() throws {
        let shipped = try Captioner(contentsOf: Self.models.appending(path: "captioner"))
        let classifiers = try ModelStore.gatedClassifiers(at: Self.models)
        let pneumonia = try #require(classifiers.first { $0.name == "pneumonia" })
        let sharing = Captioner(trunk: pneumonia.classifier, decoder: shipped.decoder, vocabulary: shipped.vocabulary,
                                settings: shipped.settings, parameters: shipped.parameters)
        let stages = EventProcessor.sharingTrunks(classifiers.map(ClassifierStage.init) + [CaptionerStage(captioner: sharing)])
        #expect(stages.compactMap { $0 as? ClassifierStage }.map { "\($0.served.name) \($0.keepsLastStageMaps)" }.sorted()
                == ["covid false", "pneumonia true"])
        let processor = EventProcessor(parser: EventParser(), fetcher: ImageFetcher(allowedRoots: [Self.data.path]), decoder: ImageDecoder(),
                                       imageStages: [ThumbnailStage(sides: [28], required: [28])], imageBatchStages: stages)
        let messages = (0..<70).map { index in
            let file = Self.data.appending(path: String(format: "pneumoniamnist/val/val_%05d.png", index))
            let event = Event.image(ImageEvent(eventID: "e\(index)", studyID: "s", imageID: "i\(index)", uri: file.absoluteString))
            return KafkaMessage(topic: "t", partition: 0, offset: Int64(index), key: nil, value: event.encoded())
        }
        let records = processor.process(messages).compactMap { event -> ImageRecord? in if case .image(let record) = event.payload { record } else { nil } }
        #expect(records.count == 70)
        #expect(records.map(\.generatedImpression) == sharing.caption(records.map { $0.thumbnails[28]! }, decoding: .greedy))
        #expect(records.allSatisfy { $0.lastStageMaps.isEmpty }, "the maps are not kept past the captioner")
        // The maps the classifier keeps are the trunk's own.
        let films = records.prefix(8).map { $0.thumbnails[28]! }
        let explained = pneumonia.classifier.explain(films), own = sharing.sliceFeatures(films)
        #expect(zip(explained.flatMap(\.lastStageMaps), own.data).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    }

    @Test func aMissingCaptionerStopsTheStartUnlessItIsTurnedOff() {
        var configuration = RadStreamConfiguration.standard
        configuration.models.directory = "/nonexistent/models"
        configuration.models.classifyImages = false
        configuration.models.summarizeReports = false
        let error = #expect(throws: ConfigurationError.self) { try EventProcessor(configuration: configuration) }
        #expect(error?.description.contains("captioner") == true)
        configuration.models.captionImages = false
        configuration.counterfactuals.enabled = false
        #expect((try? EventProcessor(configuration: configuration))?.imageBatchStages.isEmpty == true)
    }
}
