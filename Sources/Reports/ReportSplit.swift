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
        let all = try allPairs(in: folder)
        return (all.filter { !isTest($0.reportID) }, all.filter { isTest($0.reportID) })
    }

    /// Every IU XML report of the folder with both sections, in file-name order.
    public static func allPairs(in folder: URL) throws -> [FindingsImpressionPair] {
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "xml" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        return files.compactMap { file in
            guard let report = try? IUReport.parse([UInt8](Data(contentsOf: file))),
                  let findings = report.sections.findings, let impression = report.sections.impression else { return nil }
            return FindingsImpressionPair(reportID: file.deletingPathExtension().lastPathComponent, findings: findings, impression: impression)
        }
    }
}

/// The cross-validation folds of the report models: report id modulo k. IU has one report per
/// patient, so no patient is on both sides; with k = 5, fold 0 is the fixed test split, so the
/// figures of that fold and of the test split are one measurement. A report whose name is not a
/// number belongs to no fold (and is never measured).
public struct ReportFolds: Sendable, Equatable {
    public let count: Int

    public init(count: Int) {
        precondition(count >= 2, "cross-validation needs at least 2 folds")
        self.count = count
    }

    public func fold(of reportID: String) -> Int? { Int(reportID).map { (($0 % count) + count) % count } }

    /// The reports of fold `index` and the others: what a fold's model is measured on and what it learns from.
    public func split<T>(_ items: [T], id: (T) -> String, holdingOut index: Int) -> (training: [T], heldOut: [T]) {
        var training: [T] = [], heldOut: [T] = []
        for item in items {
            guard let fold = fold(of: id(item)) else { continue }
            if fold == index { heldOut.append(item) } else { training.append(item) }
        }
        return (training, heldOut)
    }
}
