import Foundation
import Reports
import Testing
@testable import Summarization

/// Drafting from the decoder's own earlier outputs: what the book offers, and that decoding with
/// drafts — right ones, wrong ones, ones that part from the output midway — writes what plain
/// greedy decoding writes.
@Suite("Draft book")
struct DraftBookTests {
    @Test func aPrefixIsContinuedByTheMostUsedOutputThatStartsWithIt() {
        let book = DraftBook(capacity: 3)
        #expect(book.continuation(of: [], limit: 10).isEmpty)
        book.record([5, 6, 7], ended: true)
        book.record([5, 8], ended: true)
        book.record([5, 8], ended: true)
        #expect(book.continuation(of: [], limit: 10) == [5, 8, ReportVocabulary.end])
        #expect(book.continuation(of: [5, 6], limit: 10) == [7, ReportVocabulary.end])
        #expect(book.continuation(of: [5, 6], limit: 1) == [7])
        #expect(book.continuation(of: [5, 6, 7, ReportVocabulary.end], limit: 10).isEmpty, "nothing after the end")
        #expect(book.continuation(of: [9], limit: 10).isEmpty && book.continuation(of: [5], limit: 0).isEmpty)
        // An output cut at the length limit ends without <eos>.
        book.record([9, 9], ended: false)
        #expect(book.continuation(of: [9], limit: 10) == [9])
        // Full: a new output takes the least used one's place.
        book.record([1], ended: true)
        #expect(book.count == 3 && book.continuation(of: [9], limit: 10).isEmpty && book.continuation(of: [5], limit: 10) == [8, ReportVocabulary.end])
    }

    @Test func draftedGreedyDecodingWritesWhatPlainGreedyDecodingWrites() {
        let summarizer = SummarizerFasterPathsTests.summarizer, model = summarizer.model, vocabulary = summarizer.vocabulary
        let sources = SummarizerFasterPathsTests.pairs.map { vocabulary.encode($0.findings) }
        let memory = model.encodeOnPlan(sources)
        let plain = model.greedy(memory: memory, maximumLength: 30)
        // Drafts that are right, that part from the output after a few tokens, and that are wrong
        // from the first; then the book as decoding itself leaves it.
        let book = DraftBook(capacity: 64)
        for output in plain {
            book.record(output, ended: output.count < 30)
            book.record(Array(output.prefix(3)) + [7, 8, 9], ended: true)
        }
        book.record([11, 12, 13, 14], ended: true)
        for _ in 0..<2 { #expect(model.greedy(memory: memory, maximumLength: 30, drafts: book) == plain) }
        #expect(model.greedy(memory: memory, maximumLength: 4, drafts: book) == model.greedy(memory: memory, maximumLength: 4), "cut at a length")
    }
}
