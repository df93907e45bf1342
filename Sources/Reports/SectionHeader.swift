/// The header spellings of real chest X-ray reports and the section each one opens.
///
/// "FINDINGS AND IMPRESSION" (and its reversals) opens the impression, as in the MIMIC-CXR
/// section parser: a combined block is the radiologist's conclusion, and reading it as findings
/// would hand the summarizer the answer it is asked to write.
enum SectionHeader {
    static let table: [(names: [String], kind: SectionKind)] = [
        (["findings and impression", "impression and findings", "findings/impression",
          "impression/findings", "findings and impressions"], .impression),
        (["findings", "finding", "report", "observations"], .findings),
        (["impressions", "impression", "conclusions", "conclusion", "summary", "opinion"], .impression),
        (["clinical information", "clinical indication", "clinical history", "clinical details",
          "reason for examination", "reason for exam", "reason for study", "indications", "indication",
          "history"], .indication),
        (["comparisons", "comparison", "prior studies", "prior study"], .comparison),
        (["technique", "techniques", "examination", "exam", "procedure", "views"], .technique),
    ]

    /// Every spelling, longest first, so that "findings and impression" wins over "findings".
    static let spellings: [(name: String, kind: SectionKind)] = table
        .flatMap { entry in entry.names.map { (name: $0, kind: entry.kind) } }
        .sorted { $0.name.count > $1.name.count }
}
