import Foundation
import TestSupport
import Testing
@testable import Summarization

@Suite("Summarizer vocabulary")
struct ReportVocabularyTests {
    @Test func splitsWordsNumbersDeidentificationMarksAndPunctuation() {
        #expect(ReportVocabulary.split("Heart size 3.5 cm, XXXX.\n1. No  effusion (left)") ==
                ["heart", "size", "3.5", "cm", ",", "xxxx", ".", "1", ".", "no", "effusion", "(", "left", ")"])
        #expect(ReportVocabulary.split("T12.") == ["t", "12", "."])
        #expect(ReportVocabulary.split("   ").isEmpty)
    }

    /// ASCII text read byte by byte splits as it does Character by Character: on made-up text
    /// with every kind of token and whitespace (a CR LF pair, a vertical tab, numbers ending in a
    /// point), and on every tenth IU report file as it is on disk, XML and all.
    @Test func theASCIIPathSplitsAsTheCharacterPathDoes() throws {
        let made = ["Heart size 3.5 cm, XXXX.\r\n1. No\u{0B}effusion\u{0C}(left)", "T12. 4.", "3.x 2..5 .5", "A-B_c'd\"e", "\t\t", "ÉCHO"]
        let files = try TestData.iuReportFiles(every: 10)
        #expect(files.count > 300)
        for text in made + files where text.utf8.allSatisfy({ $0 < 0x80 }) {
            #expect(ReportVocabulary.splitASCII(text) == ReportVocabulary.splitCharacters(text))
        }
        // Beyond ASCII the Character path runs: é is a letter there.
        #expect(ReportVocabulary.split("ÉCHO normal") == ["écho", "normal"])
    }

    @Test func keepsWordsSeenOftenEnoughAndMapsTheRestToUnknown() {
        let vocabulary = ReportVocabulary(building: ["No effusion.", "No pneumothorax.", "Rare word."], minimumCount: 2)
        #expect(vocabulary.tokens == ["<pad>", "<unk>", "<bos>", "<eos>", ".", "no"])
        #expect(vocabulary.encode("No rare effusion.") == [5, ReportVocabulary.unknown, ReportVocabulary.unknown, 4])
    }

    @Test func decodesToReadableSentences() {
        let vocabulary = ReportVocabulary(tokens: ReportVocabulary.specials + [".", ",", "1", "2", "acute", "disease", "no", "xxxx", "(", ")", "left"])
        let ids = vocabulary.encode("1. no acute disease, xxxx. 2. no (left) disease.")
        #expect(vocabulary.decode(ids + [ReportVocabulary.end, 5]) == "1. No acute disease, XXXX. 2. No (left) disease.")
        #expect(vocabulary.decode([]) == "")
    }
}
