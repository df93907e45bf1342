import Models
import TensorEngine

/// A classifier's figures on a labelled set, with 95% bootstrap intervals where asked.
public struct ClassifierEvaluation: Codable, Sendable, Equatable {
    public var images: Int
    /// Binary: the positive class's AUC. More classes: the mean of the one-vs-rest AUCs.
    public var auc: Double
    public var aucInterval: [Double]?
    /// One-vs-rest AUC per class (more than two classes only).
    public var classAUC: [String: Double]?
    public var classAUCInterval: [String: [Double]]?
    /// At the classifier's decision rule (the threshold of a binary model).
    public var accuracy: Double
    public var accuracyInterval: [Double]?
    /// Binary: the share of positives and of negatives called right, and their mean (the
    /// accuracy at 50% prevalence).
    public var sensitivity: Double?
    public var specificity: Double?
    public var balancedAccuracy: Double?
    public var negativeLogLikelihood: Double
    public var expectedCalibrationError: Double

    /// Binary: the accuracy the sensitivity and specificity measured here would give among
    /// images of which `prevalence` are positive.
    public func accuracy(atPrevalence prevalence: Double) -> Double? {
        guard let sensitivity, let specificity else { return nil }
        return prevalence * sensitivity + (1 - prevalence) * specificity
    }

    /// The classifier's logits for every image of `set`, in batches.
    public static func logits(of classifier: ImageClassifier, on set: LabeledImageSet, batchSize: Int = 256) -> [[Float]] {
        var rows: [[Float]] = []
        rows.reserveCapacity(set.count)
        for start in stride(from: 0, to: set.count, by: batchSize) {
            let batch = set.images[start..<min(start + batchSize, set.count)].map(\.pixels)
            let logits = classifier.network(classifier.input(batch), training: false)
            let classes = logits.shape[1]
            for row in 0..<batch.count { rows.append(Array(logits.data[(row * classes)..<((row + 1) * classes)])) }
        }
        return rows
    }

    public init(classifier: ImageClassifier, set: LabeledImageSet, intervals: Bool) {
        self.init(classifier: classifier, logits: Self.logits(of: classifier, on: set), labels: set.images.map(\.label),
                  intervals: intervals)
    }

    public init(classifier: ImageClassifier, logits: [[Float]], labels: [Int], intervals: Bool) {
        self.init(settings: classifier.settings, logits: logits, labels: labels, intervals: intervals)
    }

    /// From logits alone, calibrated and decided as `settings` say (its temperature and threshold).
    public init(settings: ImageClassifier.Settings, logits: [[Float]], labels: [Int], intervals: Bool) {
        let classes = settings.classes
        let probabilities = ClassifierCalibration.probabilities(logits: logits, temperature: settings.temperature)
        let decisions = probabilities.map { row -> Int in
            if settings.isBinary, let threshold = settings.threshold { return row[1] >= threshold ? 1 : 0 }
            return row.indices.max { row[$0] < row[$1] }!
        }
        images = labels.count
        negativeLogLikelihood = ClassificationMetrics.negativeLogLikelihood(logits: logits, labels: labels,
                                                                             temperature: settings.temperature)
        expectedCalibrationError = ClassificationMetrics.expectedCalibrationError(probabilities: probabilities, labels: labels)

        func accuracy(_ sample: [Int]) -> Double {
            Double(sample.filter { decisions[$0] == labels[$0] }.count) / Double(max(sample.count, 1))
        }
        func oneVersusRestAUC(of label: Int, _ sample: [Int]) -> Double {
            ClassificationMetrics.auc(scores: sample.map { probabilities[$0][label] }, positives: sample.map { labels[$0] == label })
        }
        let all = Array(labels.indices)
        self.accuracy = accuracy(all)
        if classes.count == 2 {
            auc = oneVersusRestAUC(of: 1, all)
            let positives = labels.map { $0 == 1 }, called = decisions.map { $0 == 1 }
            sensitivity = Double(zip(called, positives).filter { $0 && $1 }.count) / Double(max(positives.filter { $0 }.count, 1))
            specificity = Double(zip(called, positives).filter { !$0 && !$1 }.count) / Double(max(positives.filter { !$0 }.count, 1))
            balancedAccuracy = ClassificationMetrics.balancedAccuracy(decisions: called, positives: positives)
        } else {
            let perClass = Dictionary(uniqueKeysWithValues: classes.indices.map { (classes[$0], oneVersusRestAUC(of: $0, all)) })
            classAUC = perClass
            auc = perClass.values.reduce(0, +) / Double(perClass.count)
        }
        guard intervals else { return }
        let interval = { (statistic: ([Int]) -> Double) -> [Double] in
            let (low, high) = ClassificationMetrics.bootstrapInterval(count: labels.count, statistic)
            return [low, high]
        }
        accuracyInterval = interval(accuracy)
        if classes.count == 2 {
            aucInterval = interval { oneVersusRestAUC(of: 1, $0) }
        } else {
            aucInterval = interval { sample in classes.indices.map { oneVersusRestAUC(of: $0, sample) }.reduce(0, +) / Double(classes.count) }
            classAUCInterval = Dictionary(uniqueKeysWithValues: classes.indices.map { label in (classes[label], interval { oneVersusRestAUC(of: label, $0) }) })
        }
    }
}
