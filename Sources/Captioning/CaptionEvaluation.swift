import Foundation
import Reports
import Summarization

/// How well generated impressions state an image's finding, as the labeler reads them.
public struct ClinicalEfficacy: Codable, Sendable, Equatable {
    public var images: Int
    /// Share of images whose impression states pneumonia exactly when the image is labelled so.
    public var accuracy: Double
    /// Of the pneumonia images, the share whose impression states it; of the normal ones, the share whose does not.
    public var sensitivity: Double
    public var specificity: Double

    /// Generated impressions against labels (1: pneumonia, 0: normal).
    public init(captions: [String], labels: [Int], labeler: ReportLabeler = ReportLabeler()) {
        precondition(captions.count == labels.count, "one caption per label")
        let stated = captions.map { CaptionPairing.statesPneumonia(labeler.label(ReportSections(impression: $0))) }
        let positives = labels.filter { $0 == 1 }.count, negatives = labels.count - positives
        let truePositives = zip(stated, labels).filter { $0 && $1 == 1 }.count
        let trueNegatives = zip(stated, labels).filter { !$0 && $1 == 0 }.count
        images = labels.count
        accuracy = Double(truePositives + trueNegatives) / Double(max(labels.count, 1))
        sensitivity = Double(truePositives) / Double(max(positives, 1))
        specificity = Double(trueNegatives) / Double(max(negatives, 1))
    }
}

/// What `manifest.json` of a captioner records.
public struct CaptionerManifest: Codable, Sendable {
    public var model = "captioner"
    public var version: String
    public var createdAt: String
    public var command: String
    public var commit: String
    public var data: String
    /// How images and reports were paired: not the same patients.
    public var pairing: String
    public var pneumoniaReports: Int
    public var normalReports: Int
    public var options: CaptionerTrainingOptions
    /// On PneumoniaMNIST `val`, greedy.
    public var clinicalEfficacy: ClinicalEfficacy
    /// The pneumonia classifier's accuracy on the same images, for comparison.
    public var classifierAccuracy: Double
    /// ROUGE-L against the impressions paired with the validation images (test-split reports).
    public var rougeL: Double
    public var trainingSeconds: Double
    public var history: [CaptionerProgress]

    public init(version: String, createdAt: String, command: String, commit: String, data: String, pairing: String,
                pneumoniaReports: Int, normalReports: Int, options: CaptionerTrainingOptions, clinicalEfficacy: ClinicalEfficacy,
                classifierAccuracy: Double, rougeL: Double, trainingSeconds: Double, history: [CaptionerProgress]) {
        self.version = version
        self.createdAt = createdAt
        self.command = command
        self.commit = commit
        self.data = data
        self.pairing = pairing
        self.pneumoniaReports = pneumoniaReports
        self.normalReports = normalReports
        self.options = options
        self.clinicalEfficacy = clinicalEfficacy
        self.classifierAccuracy = classifierAccuracy
        self.rougeL = rougeL
        self.trainingSeconds = trainingSeconds
        self.history = history
    }
}
