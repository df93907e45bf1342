import Events
import Foundation
import Imaging
import Kafka
import Models
import TestSupport
import Testing
@testable import Pipeline

@Suite("The classifier stage, with the shipped model")
struct ClassifierStageTests {
    static let data = TestData.root
    static let models = TestData.packageRoot.appending(path: "models")

    static func configuration() -> RadStreamConfiguration {
        var configuration = RadStreamConfiguration.standard
        configuration.images.allowedRoots = [data.path]
        configuration.models.directory = models.path
        configuration.models.captionImages = false  // the captioner stage has its own tests
        return configuration
    }

    /// A batch of images of every size gets, per image, the same probabilities the classifier
    /// gives on its own, a decision, the model's version and a Grad-CAM PNG of the input side.
    @Test func everyImageOfABatchGetsThePredictionOfTheModel() throws {
        let processor = try EventProcessor(configuration: Self.configuration())
        let classifier = try ModelStore.classifiers(at: Self.models).first { $0.settings.name == "pneumonia" }!
        let files = ["pneumoniamnist/val/val_00000.png", "pneumoniamnist/val/val_00003.png", "samples/iu_1000_IM-0003-2001.png",
                     "samples/1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"]
        let messages = try files.enumerated().map { index, file in
            let event = Event.image(ImageEvent(eventID: "e\(index)", studyID: "s", imageID: "i\(index)",
                                               uri: Self.data.appending(path: file).absoluteString))
            return KafkaMessage(topic: "t", partition: 0, offset: Int64(index), key: nil, value: event.encoded())
        }
        // One report in the middle: batch stages must leave it where it is.
        let report = Event.report(ReportEvent(eventID: "r", studyID: "s", reportID: "r", format: .text, body: "FINDINGS: Clear."))
        let batch = Array(messages[0..<2]) + [KafkaMessage(topic: "t", partition: 0, offset: 99, key: nil, value: report.encoded())]
            + Array(messages[2...])
        let processed = processor.process(batch)
        #expect(processed.map(\.source.offset) == [0, 1, 99, 2, 3])
        // The shipped classifiers run through their allocation-free plans (and give the graph's figures, below).
        let stages = processor.imageBatchStages.compactMap { $0 as? ClassifierStage }
        #expect(stages.count == 2 && stages.allSatisfy(\.usesInferencePlan))
        let decoder = ImageDecoder()
        for (event, file) in zip(processed.filter { $0.source.offset != 99 }, files) {
            guard case .image(let record) = event.payload, let prediction = record.predictions.first(where: { $0.model == "pneumonia" })
            else { Issue.record("\(file): no pneumonia prediction"); continue }
            let pixels = try decoder.decode([UInt8](Data(contentsOf: Self.data.appending(path: file)))).image.thumbnail(side: 28).pixels
            let alone = classifier.probabilities([pixels])[0]
            // Every shipped classifier speaks once per image (pneumonia, and COVID-19 with its three classes).
            #expect(record.predictions.map(\.model).sorted() == ["covid", "pneumonia"])
            #expect(record.predictions.first { $0.model == "covid" }?.probabilities.keys.sorted() == ["covid-19", "no_finding", "other_pneumonia"])
            #expect(prediction.modelVersion == classifier.settings.version)
            #expect(abs(prediction.probabilities["pneumonia"]! - alone[1]) < 1e-5, "\(file)")
            #expect(abs(prediction.probabilities.values.reduce(0, +) - 1) < 1e-5)
            #expect(prediction.decision == classifier.settings.classes[classifier.decision(alone)])
            let saliency = try decoder.decode(prediction.saliencyPNG).image
            #expect(saliency.width == 28 && saliency.height == 28)
        }
        // The two validation images are a clear pneumonia (label 1) and a clear normal (label 0).
        if case .image(let first) = processed[0].payload, case .image(let second) = processed[1].payload {
            #expect(first.predictions.first { $0.model == "pneumonia" }?.decision == "pneumonia")
            #expect(second.predictions.first { $0.model == "pneumonia" }?.decision == "normal")
        }
    }

    @Test func aMissingModelStopsTheStartWithTheReason() {
        var configuration = Self.configuration()
        configuration.models.directory = "/nonexistent/models"
        let error = #expect(throws: ConfigurationError.self) { try EventProcessor(configuration: configuration) }
        #expect(error?.description.contains("/nonexistent/models") == true)
        configuration.models.classifyImages = false
        configuration.models.summarizeReports = false
        configuration.models.captionImages = false
        configuration.counterfactuals.enabled = false
        #expect((try? EventProcessor(configuration: configuration))?.imageBatchStages.isEmpty == true)
    }

    @Test func theConfigurationChoosesWhichClassifiersRun() throws {
        var configuration = Self.configuration()
        configuration.models.classifiers = ["pneumonia"]
        #expect(try EventProcessor(configuration: configuration).imageBatchStages.map { $0.name.split(separator: " ")[0] } == ["pneumonia"])
        configuration.models.classifiers = ["tuberculosis"]
        let error = #expect(throws: ConfigurationError.self) { try EventProcessor(configuration: configuration) }
        #expect(error?.description.contains("tuberculosis") == true)
    }
}
