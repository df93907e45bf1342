import Captioning
import Events
import Foundation
import Kafka
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
