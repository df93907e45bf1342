import Foundation

/// The labeler against the IU reports' manual MeSH terms: what `evaluate-labeler` prints and the
/// tests check. MeSH lists only what is present, so an observation is present when MeSH names it
/// (`MeSHObservations`) and predicted when the labeler says positive — or, in the loose count,
/// positive or uncertain.
public struct LabelerEvaluation: Sendable {
    public struct Counts: Sendable, Equatable {
        public var truePositive = 0, falsePositive = 0, falseNegative = 0

        public init(truePositive: Int = 0, falsePositive: Int = 0, falseNegative: Int = 0) {
            (self.truePositive, self.falsePositive, self.falseNegative) = (truePositive, falsePositive, falseNegative)
        }
        public var f1: Double { truePositive == 0 ? 0 : 2 * Double(truePositive) / Double(2 * truePositive + falsePositive + falseNegative) }
        public var precision: Double { truePositive + falsePositive == 0 ? 0 : Double(truePositive) / Double(truePositive + falsePositive) }
        public var recall: Double { truePositive + falseNegative == 0 ? 0 : Double(truePositive) / Double(truePositive + falseNegative) }

        mutating func add(predicted: Bool, present: Bool) {
            switch (predicted, present) {
            case (true, true): truePositive += 1
            case (true, false): falsePositive += 1
            case (false, true): falseNegative += 1
            case (false, false): break
            }
        }

        static func + (a: Self, b: Self) -> Self {
            Self(truePositive: a.truePositive + b.truePositive, falsePositive: a.falsePositive + b.falsePositive,
                 falseNegative: a.falseNegative + b.falseNegative)
        }
    }

    /// One report the labeler read differently from MeSH.
    public struct Disagreement: Sendable {
        public let reportID: String
        public let observation: Observation
        public let status: ObservationStatus
        public let mesh: [String]
        public let text: String
    }

    public private(set) var strict: [Observation: Counts] = [:]
    public private(set) var loose: [Observation: Counts] = [:]
    public private(set) var reports = 0
    public private(set) var disagreements: [Disagreement] = []

    public init() {}

    public mutating func add(_ report: IUReport, id: String, labeler: ReportLabeler) {
        reports += 1
        let present = MeSHObservations.observations(in: report.meshMajor)
        let labels = labeler.label(report.sections)
        for observation in Observation.allCases {
            let status = labels[observation]!, truth = present.contains(observation)
            strict[observation, default: Counts()].add(predicted: status == .positive, present: truth)
            loose[observation, default: Counts()].add(predicted: status >= .uncertain, present: truth)
            if (status == .positive) != truth {
                disagreements.append(Disagreement(reportID: id, observation: observation, status: status, mesh: report.meshMajor,
                                                  text: [report.sections.findings, report.sections.impression].compactMap { $0 }.joined(separator: " | ")))
            }
        }
    }

    /// Both measurements together (their reports, counts and disagreements).
    public mutating func merge(_ other: Self) {
        reports += other.reports
        for (observation, counts) in other.strict { strict[observation] = (strict[observation] ?? Counts()) + counts }
        for (observation, counts) in other.loose { loose[observation] = (loose[observation] ?? Counts()) + counts }
        disagreements += other.disagreements
    }

    /// Micro-F1 over every observation.
    public var microF1: Double { strict.values.reduce(Counts(), +).f1 }

    /// Micro-F1 over the 13 findings, No Finding left out: what the labeler reads, rather than
    /// how MeSH and CheXpert each define a normal report.
    public var findingsMicroF1: Double { strict.filter { $0.key != .noFinding }.values.reduce(Counts(), +).f1 }

    /// How an uncertain mention reads against MeSH, observation by observation: CheXpert leaves
    /// that to whoever uses its labels (its "U-Ones" and "U-Zeros"), and MeSH indexes some
    /// hedged findings as present ("Borderline heart size" is Cardiomegaly/borderline, "probable
    /// atelectasis" Pulmonary Atelectasis) and others not ("pneumonia cannot be excluded").
    /// The observations returned are those whose F1 on these reports is higher with uncertain
    /// read as positive: choose on some reports, measure on others.
    public var uncertainReadAsPositive: Set<Observation> {
        Set(Observation.allCases.filter { (loose[$0] ?? Counts()).f1 > (strict[$0] ?? Counts()).f1 })
    }

    /// The counts with uncertain mentions of `asPositive` read as positive, the others as not.
    public func counts(uncertainAsPositive asPositive: Set<Observation>) -> [Observation: Counts] {
        Dictionary(uniqueKeysWithValues: Observation.allCases.map { ($0, ((asPositive.contains($0) ? loose : strict)[$0]) ?? Counts()) })
    }

    /// Micro-F1 over every observation and over the 13 findings, uncertain read as `asPositive` says.
    public func microF1(uncertainAsPositive asPositive: Set<Observation>) -> (all: Double, findings: Double) {
        let counts = counts(uncertainAsPositive: asPositive)
        return (counts.values.reduce(Counts(), +).f1, counts.filter { $0.key != .noFinding }.values.reduce(Counts(), +).f1)
    }

    /// The IU XML reports of `folder` with FINDINGS or IMPRESSION whose id `include` accepts, measured.
    public static func measure(folder: URL, labeler: ReportLabeler = ReportLabeler(), include: (String) -> Bool) throws -> Self {
        var evaluation = Self()
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "xml" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        for file in files {
            let id = file.deletingPathExtension().lastPathComponent
            guard Int(id) != nil, include(id), let report = try? IUReport.parse([UInt8](Data(contentsOf: file))),
                  report.sections.findings != nil || report.sections.impression != nil else { continue }
            evaluation.add(report, id: id, labeler: labeler)
        }
        return evaluation
    }
}
