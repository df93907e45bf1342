import Summarization

/// The summarizer's cross-validation as a Markdown table: every system's mean ± standard
/// deviation over the folds, and its ROUGE-L in each fold.
func printCrossValidation(_ result: SummarizerCrossValidation.Result) {
    let systems = ["mostFrequentImpression", "nearestFindingsTFIDF", "nearestFindingsTFIDFWordPairs", "greedy"]
        + result.summary.keys.filter { $0.hasPrefix("beam") }.sorted() + ["likelihoodReranked", "reranked", "oracle"]
    print("| system | ROUGE-1 | ROUGE-2 | ROUGE-L | " + result.folds.map { "fold \($0.fold)" }.joined(separator: " | ") + " |")
    print("|---|---|---|---|" + String(repeating: "---|", count: result.folds.count))
    for name in systems {
        guard let spread = result.summary[name] else { continue }
        let (m, s) = (spread.mean, spread.standardDeviation)
        print(String(format: "| %@ | %.4f ± %.4f | %.4f ± %.4f | %.4f ± %.4f | ", name, m.rouge1, s.rouge1, m.rouge2, s.rouge2, m.rougeL, s.rougeL)
              + result.folds.map { String(format: "%.4f", $0.systems[name]?.rougeL ?? .nan) }.joined(separator: " | ") + " |")
    }
    print("reranked above the better retrieval baseline in \(result.foldsAboveRetrieval) of \(result.folds.count) folds")
}
