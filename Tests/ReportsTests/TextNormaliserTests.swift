import Foundation
import TestSupport
import Testing
@testable import Reports

@Suite("Normalising whitespace")
struct TextNormaliserTests {
    /// ASCII text read byte by byte gives what reading it scalar by scalar gives: on made-up
    /// runs of every ASCII whitespace, at the ends and between words, and on every tenth IU report
    /// file as it is on disk (its XML's newlines and indents included).
    @Test func theASCIIPathNormalisesAsTheScalarPathDoes() throws {
        let made = ["", " ", "\t\n\u{0B}\u{0C}\r ", "  Heart\tsize\r\nnormal.  ", "a\u{0B}b\u{0C}c", "x\u{1F}y", "No acute\n\n\tdisease."]
        let files = try TestData.iuReportFiles(every: 10)
        #expect(files.count > 300)
        for text in made + files where text.utf8.allSatisfy({ $0 < 0x80 }) {
            #expect(TextNormaliser.normaliseASCII(text) == TextNormaliser.normaliseScalars(text))
        }
        // Text beyond ASCII keeps the scalar path: a non-breaking space is whitespace there.
        #expect(TextNormaliser.normalise("Heart\u{00A0}size  é") == "Heart size é")
    }
}
