import Reports
import TensorEngine

/// Image–impression pairs made from collections that have no real pairs: each image gets the
/// report of a random IU report that says what the image's label says — a pneumonia image one
/// whose IMPRESSION states pneumonia (or a consolidation), a normal image one the labeler reads as
/// "No Finding". Such pairs are not the same patient: they teach the captioner how a radiologist
/// words a finding, not what this patient's film shows beyond its label.
public struct CaptionPairing: Sendable {
    public let pneumonia: [FindingsImpressionPair]
    public let normal: [FindingsImpressionPair]

    /// Sorts `reports` (reports with both sections, of one split) into the two kinds; reports
    /// of neither kind are not used.
    public init(reports: [FindingsImpressionPair], labeler: ReportLabeler = ReportLabeler()) {
        pneumonia = reports.filter { Self.statesPneumonia(labeler.label(ReportSections(impression: $0.impression))) }
        normal = reports.filter {
            labeler.label(ReportSections(findings: $0.findings, impression: $0.impression))[.noFinding] == .positive
        }
    }

    /// What clinical efficacy asks of a generated impression: pneumonia stated (positive or
    /// uncertain), or a consolidation, which on a chest film of pneumonia is the same finding.
    public static func statesPneumonia(_ observations: [Observation: ObservationStatus]) -> Bool {
        [.positive, .uncertain].contains(observations[.pneumonia]) || observations[.consolidation] == .positive
    }

    /// A report for each label (1: pneumonia, 0: normal), drawn with `seed`: the same labels and
    /// seed give the same pairs.
    public func reports(for labels: [Int], seed: UInt64) -> [FindingsImpressionPair] {
        precondition(!pneumonia.isEmpty && !normal.isEmpty, "no pneumonia or no normal reports to pair with")
        var generator = SeededGenerator(seed: seed)
        return labels.map { label in
            let pool = label == 1 ? pneumonia : normal
            return pool[Int(generator.next() % UInt64(pool.count))]
        }
    }
}
