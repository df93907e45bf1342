import Reports

/// Labels every report's findings and impression with the 14 CheXpert observations.
public struct LabelerStage: ReportStage {
    public let labeler: ReportLabeler
    public var name: String { "labeler \(ReportLabeler.version)" }

    public init(labeler: ReportLabeler = ReportLabeler()) {
        self.labeler = labeler
    }

    public func run(on record: inout ReportRecord) throws {
        // A report with neither section says nothing about any observation: no labels, not
        // "No Finding".
        guard record.sections.findings != nil || record.sections.impression != nil else { return }
        record.observations = labeler.label(record.sections)
        record.labelerVersion = ReportLabeler.version
    }
}
