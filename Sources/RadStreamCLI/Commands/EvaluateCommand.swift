import ArgumentParser
import Foundation
import Models
import TensorEngine
import Training

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a classifier on a labelled folder: AUC, accuracy, calibration, with 95% bootstrap intervals.",
        discussion: """
            --data is a folder in the PneumoniaMNIST layout (images and labels.csv). With --against, \
            a second model is measured on the same images and the difference of their AUCs is given \
            with a paired bootstrap interval (the same resampled images for both): the way to tell \
            whether one model is better or the difference is noise.

            Example: radstream evaluate --data ../shared/data/pneumoniamnist/val --model models/pneumonia --against /tmp/candidate
            """)

    @Option(help: "Labelled image folder.") var data: String
    @Option(help: "Model file or folder.") var model: String
    @Option(help: "A second model to compare with, on the same images.") var against: String?
    @Option(help: "Input side the folder is read at.") var side = 28
    @Flag(help: "Print the figures as one JSON document instead of text.") var json = false

    /// What `--json` prints.
    struct Result: Encodable {
        struct Measured: Encodable {
            let model: String, version: String, path: String, parameters: Int, threshold: Float?
            let evaluation: ClassifierEvaluation
        }
        struct Comparison: Encodable {
            let aucDifference: Double, interval: [Double], significant: Bool
        }
        let images: Int
        var models: [Measured]
        var comparison: Comparison?
    }

    func run() throws {
        let set = try BinaryLabelFolder.load(URL(filePath: data), side: side)
        let classifiers = [model] + (against.map { [$0] } ?? [])
        var result = Result(images: set.count, models: [], comparison: nil)
        let loaded = try classifiers.map { path in (path, try Self.single(path)) }
        for (path, classifier) in loaded {
            let evaluation = ClassifierEvaluation(classifier: classifier, set: set, intervals: true)
            result.models.append(.init(model: classifier.settings.name, version: classifier.settings.version, path: path,
                                       parameters: classifier.network.parameterCount, threshold: classifier.settings.threshold,
                                       evaluation: evaluation))
            if !json { Self.report(classifier, evaluation) }
        }
        if loaded.count == 2 {
            let labels = set.images.map(\.label)
            let scores = loaded.map { _, classifier in classifier.calibrated(Self.logitsTensor(classifier, set)).map { $0[1] } }
            func difference(_ sample: [Int]) -> Double {
                let positives = sample.map { labels[$0] == 1 }
                return ClassificationMetrics.auc(scores: sample.map { scores[0][$0] }, positives: positives)
                    - ClassificationMetrics.auc(scores: sample.map { scores[1][$0] }, positives: positives)
            }
            let (low, high) = ClassificationMetrics.bootstrapInterval(count: set.count, difference)
            let whole = difference(Array(set.images.indices))
            result.comparison = .init(aucDifference: whole, interval: [low, high], significant: low > 0 || high < 0)
            if !json {
                print(String(format: "AUC difference (%@ − %@): %+.4f, paired 95%% interval [%+.4f, %+.4f]%@",
                             model, against!, whole, low, high, low > 0 || high < 0 ? "" : " — contains 0: no significant difference"))
            }
        }
        if json { try JSONOutput.print(result) }
    }

    static func single(_ path: String) throws -> ImageClassifier {
        let classifiers = try ModelStore.classifiers(at: URL(filePath: path))
        guard classifiers.count == 1, classifiers[0].settings.isBinary else {
            throw CommandFailure("\(path): one binary classifier expected")
        }
        return classifiers[0]
    }

    static func logitsTensor(_ classifier: ImageClassifier, _ set: LabeledImageSet) -> Tensor {
        let rows = ClassifierEvaluation.logits(of: classifier, on: set)
        return Tensor(shape: [rows.count, rows.first?.count ?? 0], data: rows.flatMap { $0 })
    }

    static func report(_ classifier: ImageClassifier, _ e: ClassifierEvaluation) {
        let settings = classifier.settings
        print(String(format: "%@ %@ (%d parameters%@): %d images, AUC %.4f [%.4f, %.4f], accuracy %.4f [%.4f, %.4f] at threshold %.3f, NLL %.4f, ECE %.4f",
                     settings.name, settings.version, classifier.network.parameterCount,
                     classifier.network.configuration.attentionHeads.map { ", self-attention with \($0) heads" } ?? "",
                     e.images, e.auc, e.aucInterval![0], e.aucInterval![1], e.accuracy, e.accuracyInterval![0],
                     e.accuracyInterval![1], settings.threshold ?? .nan, e.negativeLogLikelihood, e.expectedCalibrationError))
    }
}
