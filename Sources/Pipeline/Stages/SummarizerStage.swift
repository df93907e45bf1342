import Reports
import Summarization
import TensorEngine

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
        let written = indices.map { records[$0].sections.impression }
        let disagreements = concurrentMap(indices.count) { position -> [Observation]? in
            guard let impression = generated[position], let written = written[position] else { return nil }
            return self.disagreements(written, impression)
        }
        for (position, index) in indices.enumerated() {
            guard let impression = generated[position] else { continue }
            records[index].generatedImpression = impression
            records[index].summarizerVersion = summarizer.version
            if let disagreement = disagreements[position] { records[index].impressionDisagreements = disagreement }
        }
    }

    /// Observations that one impression states (positive or uncertain) and the other does not,
    /// each impression read through the summarizer's memoised labeler (radiologists' impressions
    /// repeat word for word, and generated ones more: most are an earlier report's conclusion).
    func disagreements(_ written: String, _ generated: String) -> [Observation] {
        let (a, b) = (summarizer.statedObservations(in: written), summarizer.statedObservations(in: generated))
        return Observation.allCases.filter { a.contains($0) != b.contains($0) }
    }
}
