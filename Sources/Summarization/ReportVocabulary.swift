import Foundation
import Models

/// The summarizer's word-level vocabulary, built from the training reports.
///
/// Report text is small and formulaic (about 1,200 words occur twice or more in the IU training
/// reports), so whole words are the right unit: no subword merges to learn, and a copied word
/// is a whole word. Text is lowercased; a token is a word, a number ("3.5"), the de-identification
/// mark XXXX, or one punctuation character. Words seen fewer than `minimumCount` times in
/// training become `<unk>`; the copy mechanism cannot bring them back, which is why the
/// threshold is low.
public struct ReportVocabulary: Sendable, Equatable {
    public static let padding = 0, unknown = 1, beginning = 2, end = 3
    static let specials = ["<pad>", "<unk>", "<bos>", "<eos>"]

    public let tokens: [String]
    private let index: [String: Int]

    public init(tokens: [String]) {
        precondition(Array(tokens.prefix(Self.specials.count)) == Self.specials, "a vocabulary starts with \(Self.specials)")
        self.tokens = tokens
        index = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Every token of `texts` seen at least `minimumCount` times, sorted after the specials so
    /// that the same texts always give the same ids.
    public init(building texts: [String], minimumCount: Int = 2) {
        var counts: [String: Int] = [:]
        for text in texts { for token in Self.split(text) { counts[token, default: 0] += 1 } }
        self.init(tokens: Self.specials + counts.filter { $0.value >= minimumCount }.keys.sorted())
    }

    /// A `vocabulary.txt` as `Summarizer.save` writes it (one token per line, in id order),
    /// which must hold `expectedCount` tokens: those of the model beside it.
    public init(contentsOf file: URL, expectedCount: Int) throws {
        let words = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
        guard words.count == expectedCount, words.starts(with: Self.specials) else {
            throw CheckpointError("\(file.lastPathComponent) holds \(words.count) tokens for a model of \(expectedCount)")
        }
        self.init(tokens: words)
    }

    public static func == (a: Self, b: Self) -> Bool { a.tokens == b.tokens }

    public var count: Int { tokens.count }

    public func id(_ token: String) -> Int { index[token] ?? Self.unknown }

    public func encode(_ text: String) -> [Int] { Self.split(text).map(id) }

    /// Text from ids, stopping at `<eos>`: punctuation attached to the word before it, sentences
    /// capitalised, XXXX restored.
    public func decode(_ ids: [Int]) -> String {
        var text = "", sentenceStart = true
        for id in ids {
            if id == Self.end { break }
            guard id > Self.beginning, id < tokens.count else { continue }
            var token = tokens[id]
            if token == "xxxx" { token = "XXXX" }
            let attaches = [".", ",", ":", ";", ")", "?", "!", "%"].contains(token)
            if !text.isEmpty && !attaches && !text.hasSuffix("(") && !text.hasSuffix("/") && token != "/" { text += " " }
            if sentenceStart, let first = token.first, first.isLetter { token = first.uppercased() + token.dropFirst() }
            text += token
            if token.first?.isLetter == true || token.first?.isNumber == true { sentenceStart = false }
            if token == "." { sentenceStart = true }
        }
        return text
    }

    /// Lowercased tokens: runs of letters, numbers with an optional decimal part, and single
    /// punctuation characters; whitespace separates and is dropped. ASCII text (nearly every
    /// report) is read byte by byte, which gives the same tokens: looking up each Character's
    /// Unicode properties was 2% of the report stream's CPU (perf).
    public static func split(_ text: String) -> [String] {
        text.utf8.allSatisfy { $0 < 0x80 } ? splitASCII(text) : splitCharacters(text)
    }

    /// `split` for any text, Character by Character.
    static func splitCharacters(_ text: String) -> [String] {
        var tokens: [String] = []
        let characters = Array(text.lowercased())
        var i = 0
        while i < characters.count {
            let c = characters[i]
            if c.isWhitespace || c.isNewline {
                i += 1
            } else if c.isLetter {
                var j = i
                while j < characters.count && characters[j].isLetter { j += 1 }
                tokens.append(String(characters[i..<j]))
                i = j
            } else if c.isNumber {
                var j = i
                while j < characters.count && characters[j].isNumber { j += 1 }
                if j + 1 < characters.count && characters[j] == "." && characters[j + 1].isNumber {
                    j += 1
                    while j < characters.count && characters[j].isNumber { j += 1 }
                }
                tokens.append(String(characters[i..<j]))
                i = j
            } else {
                tokens.append(String(c))
                i += 1
            }
        }
        return tokens
    }

    /// `split` for ASCII text, byte by byte: ASCII's letters are A–Z and a–z, its numbers 0–9,
    /// its whitespace tab to carriage return and the space (a CR LF pair, one Character, is
    /// whitespace either way), and every other byte is one Character of punctuation.
    static func splitASCII(_ text: String) -> [String] {
        var tokens: [String] = []
        var bytes = Array(text.utf8)
        for index in bytes.indices where bytes[index] >= 0x41 && bytes[index] <= 0x5A { bytes[index] += 0x20 }
        func isLetter(_ byte: UInt8) -> Bool { byte >= 0x61 && byte <= 0x7A }
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        func token(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) {
                i += 1
            } else if isLetter(byte) {
                var j = i
                while j < bytes.count && isLetter(bytes[j]) { j += 1 }
                tokens.append(token(i..<j))
                i = j
            } else if isDigit(byte) {
                var j = i
                while j < bytes.count && isDigit(bytes[j]) { j += 1 }
                if j + 1 < bytes.count && bytes[j] == UInt8(ascii: ".") && isDigit(bytes[j + 1]) {
                    j += 1
                    while j < bytes.count && isDigit(bytes[j]) { j += 1 }
                }
                tokens.append(token(i..<j))
                i = j
            } else {
                tokens.append(token(i..<(i + 1)))
                i += 1
            }
        }
        return tokens
    }
}
