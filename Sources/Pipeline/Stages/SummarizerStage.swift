import Reports
import Summarization

extension RadStreamConfiguration.SummaryDecoding {
    var decoding: Summarizer.Decoding {
        switch self {
        case .beam: .beam(width: 4)
        case .greedy: .greedy
        case .mbr: .minimumBayesRisk(samples: 16)
        }
    }
}

/// Writes every report's IMPRESSION from its FINDINGS alone, for all the reports of a batch at
/// once, and notes the observations on which the labeler reads the generated impression and
/// the radiologist's differently.
public struct SummarizerStage: ReportBatchStage {
    public let summarizer: Summarizer
    public let decoding: Summarizer.Decoding
    let labeler = ReportLabeler()
    public var name: String { "summarizer \(summarizer.version) (\(decoding))" }

    public init(summarizer: Summarizer, decoding: Summarizer.Decoding) {
        self.summarizer = summarizer
        self.decoding = decoding
    }

    public func run(_ records: inout [ReportRecord]) {
        let indices = records.indices.filter { records[$0].sections.findings != nil }
        // Only the FINDINGS reach the model: the radiologist's IMPRESSION is compared with, never read.
        let generated = summarizer.summarize(indices.map { records[$0].sections.findings! }, decoding: decoding)
        for (index, impression) in zip(indices, generated) {
            guard let impression else { continue }
            records[index].generatedImpression = impression
            records[index].summarizerVersion = summarizer.version
            if let written = records[index].sections.impression {
                records[index].impressionDisagreements = disagreements(written, impression)
            }
        }
    }

    /// Observations that one impression states (positive or uncertain) and the other does not.
    func disagreements(_ written: String, _ generated: String) -> [Observation] {
        let a = labeler.label(ReportSections(impression: written)), b = labeler.label(ReportSections(impression: generated))
        func states(_ status: ObservationStatus?) -> Bool { status == .positive || status == .uncertain }
        return Observation.allCases.filter { states(a[$0]) != states(b[$0]) }
    }
}
