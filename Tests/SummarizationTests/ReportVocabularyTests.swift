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
