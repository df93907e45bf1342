/// The parts of a radiology report that RadStream reads, each as one line of normalised text.
public struct ReportSections: Sendable, Equatable, Codable {
    public var findings: String?
    public var impression: String?
    public var indication: String?
    public var comparison: String?
    public var technique: String?

    public init(findings: String? = nil, impression: String? = nil, indication: String? = nil,
                comparison: String? = nil, technique: String? = nil) {
        self.findings = findings
        self.impression = impression
        self.indication = indication
        self.comparison = comparison
        self.technique = technique
    }

    public var isEmpty: Bool { self == ReportSections() }

    public subscript(kind: SectionKind) -> String? {
        get {
            switch kind {
            case .findings: findings
            case .impression: impression
            case .indication: indication
            case .comparison: comparison
            case .technique: technique
            }
        }
        set {
            let value = newValue.flatMap { $0.isEmpty ? nil : $0 }
            switch kind {
            case .findings: findings = value
            case .impression: impression = value
            case .indication: indication = value
            case .comparison: comparison = value
            case .technique: technique = value
            }
        }
    }

    /// Adds text to a section, after what it already holds (a header may appear twice).
    mutating func append(_ text: String, to kind: SectionKind) {
        let cleaned = TextNormaliser.normalise(text)
        guard !cleaned.isEmpty else { return }
        self[kind] = self[kind].map { $0 + " " + cleaned } ?? cleaned
    }
}

public enum SectionKind: String, Sendable, CaseIterable, Codable {
    case findings, impression, indication, comparison, technique
}
