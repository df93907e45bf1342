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
/// the radiologist's differently. With a memory of earlier reports (and a summarizer with a
/// reranker), the impression is chosen among the model's own and the conclusions of the
/// nearest earlier reports; a study is never its own neighbour.
public struct SummarizerStage: ReportBatchStage {
    public let summarizer: Summarizer
    public let decoding: Summarizer.Decoding
    public let memory: ReportMemoryHolder?
    let labeler = ReportLabeler()
    public var name: String { "summarizer \(summarizer.version) (\(decoding)\(memory == nil ? "" : ", reranked with a memory of reports"))" }

    public init(summarizer: Summarizer, decoding: Summarizer.Decoding, memory: ReportMemoryHolder? = nil) {
        self.summarizer = summarizer
        self.decoding = decoding
        self.memory = memory
    }

    public func run(_ records: inout [ReportRecord]) {
        let indices = records.indices.filter { records[$0].sections.findings != nil }
        // Only the FINDINGS reach the model: the radiologist's IMPRESSION is compared with, never
        // read — nor is it in the memory, which leaves the record's own study out.
        let findings = indices.map { records[$0].sections.findings! }
        let generated = if let reportMemory = memory?.memory, !reportMemory.isEmpty, let reranker = summarizer.reranker {
            summarizer.summarize(findings, decoding: decoding, memory: reportMemory, reranker: reranker,
                                 excluding: indices.map { records[$0].studyID })
        } else {
            summarizer.summarize(findings, decoding: decoding)
        }
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
