import TensorEngine

/// Text infilling, the denoising objective of BART (Lewis et al. 2020), on the training reports'
/// own sentences: the summarizer reads a passage with spans of it cut out, each span left as one
/// `<unk>`, and writes the whole passage. Before it learns FINDINGS → IMPRESSION from 2,300 pairs,
/// its encoder and decoder learn how report text goes — the words that follow one another, what a
/// gap in a sentence held — from every sentence of both sections.
enum DenoisingPretraining {
    /// Consecutive sentences of each text (a sentence ends at "."), gathered into passages of at
    /// most `maximumLength` tokens; a longer sentence is cut. Passages of fewer than 3 tokens
    /// teach nothing and are left out.
    static func passages(_ texts: [String], vocabulary: ReportVocabulary, maximumLength: Int) -> [[Int]] {
        precondition(maximumLength > 0, "a passage holds at least one token")
        let stop = vocabulary.id(".")
        var passages: [[Int]] = []
        for text in texts {
            var sentences: [[Int]] = [[]]
            for token in vocabulary.encode(text) {
                sentences[sentences.count - 1].append(token)
                if token == stop { sentences.append([]) }
            }
            var passage: [Int] = []
            for sentence in sentences where !sentence.isEmpty {
                if passage.count + sentence.count > maximumLength, !passage.isEmpty {
                    passages.append(passage)
                    passage = []
                }
                passage += sentence.prefix(maximumLength - passage.count)
            }
            passages.append(passage)
        }
        return passages.filter { $0.count >= 3 }
    }

    /// `passage` with spans removed until at least `rate` of its tokens are gone, each span
    /// replaced by one `<unk>`: span lengths are geometric with mean 3 (BART's Poisson(3) in
    /// spirit), a span may have length 0 (an `<unk>` inserted where nothing was missing, so that
    /// the model must also learn that nothing is missing), and at least one token always stays.
    static func corrupted(_ passage: [Int], rate: Float, using generator: inout SeededGenerator) -> [Int] {
        let toRemove = min(passage.count - 1, Int((rate * Float(passage.count)).rounded(.up)))
        guard toRemove > 0 else { return passage }
        var removed = Array(repeating: false, count: passage.count)
        var gapStarts = Set<Int>(), count = 0
        while count < toRemove {
            // Geometric on {0, 1, 2, …} with mean 3: continue with probability 3/4.
            var length = 0
            while generator.unit() < 0.75, length < toRemove - count { length += 1 }
            let standing = passage.indices.filter { !removed[$0] }
            var position = standing[Int(generator.next() % UInt64(standing.count))]
            gapStarts.insert(position)
            while position < passage.count, length > 0, !removed[position] {
                removed[position] = true
                (count, length, position) = (count + 1, length - 1, position + 1)
            }
        }
        // One `<unk>` for each run of gaps (a span may start where another ended).
        var result: [Int] = [], inGap = false
        for (position, token) in passage.enumerated() {
            if gapStarts.contains(position), !inGap { result.append(ReportVocabulary.unknown) }
            if gapStarts.contains(position) { inGap = true }
            if !removed[position] {
                result.append(token)
                inGap = false
            }
        }
        return result
    }
}
