import Reports

/// The summarizer's memos, by the source's token ids (the findings as the model reads them).
final class SummaryMemo: Sendable {
    /// The decoded output of a source: 10,000 sources of up to 200 tokens are a few megabytes.
    let decoded = ContentMemo<DecodedKey, [Int]>(capacity: 10_000)
    /// The log-likelihood of each candidate scored against a source.
    let likelihoods = ContentMemo<[Int], [[Int]: Float]>(capacity: 5_000)
    /// The token ids of a candidate's text (earlier reports' impressions are candidates of report
    /// after report).
    let encodedCandidates = ContentMemo<String, [Int]>(capacity: 20_000)
    /// What the labeler reads as stated in a text: findings, the model's own impressions, the
    /// impressions the daemon compares.
    let stated = ContentMemo<String, Set<Observation>>(capacity: 20_000)
    /// The labeler that reads them, with its memo of sentences.
    let labeler = ReportLabeler()
}

struct DecodedKey: Hashable, Sendable {
    let decoding: Summarizer.Decoding
    let maximumLength: Int
    let source: [Int]
}
