import Foundation

/// A report with both a FINDINGS and an IMPRESSION: what the summarizer learns from and is
/// measured on.
public struct FindingsImpressionPair: Sendable {
    public let reportID: String
    public let findings: String
    public let impression: String

    public init(reportID: String, findings: String, impression: String) {
        self.reportID = reportID
        self.findings = findings
        self.impression = impression
    }
}

/// The fixed split the summarizer and the labeler are measured on: IU report ids divisible by 5
/// are the test split, never used in training; the others are for training. Of those, ids
/// ending in 1 modulo 20 (about 6%) are the validation reports a training may hold out to
/// choose its epoch.
public enum ReportSplit {
    public static func isTest(_ reportID: String) -> Bool { Int(reportID).map { $0 % 5 == 0 } ?? false }

    public static func isValidation(_ reportID: String) -> Bool { Int(reportID).map { $0 % 20 == 1 } ?? false }

    /// Every IU XML report of the folder with both sections, split.
    public static func pairs(in folder: URL) throws -> (training: [FindingsImpressionPair], test: [FindingsImpressionPair]) {
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "xml" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        var training: [FindingsImpressionPair] = [], test: [FindingsImpressionPair] = []
        for file in files {
            guard let report = try? IUReport.parse([UInt8](Data(contentsOf: file))),
                  let findings = report.sections.findings, let impression = report.sections.impression else { continue }
            let id = file.deletingPathExtension().lastPathComponent
            let pair = FindingsImpressionPair(reportID: id, findings: findings, impression: impression)
            if isTest(id) { test.append(pair) } else { training.append(pair) }
        }
        return (training, test)
    }
}
