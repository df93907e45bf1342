/// Splits a free-text report into its sections.
///
/// The written rule (compare MIMIC-CXR's `section_parser`):
/// 1. A header is one of `SectionHeader`'s spellings, any case, with any spacing between its
///    words, standing at the start of the text, of a line, or after a sentence's end (`.` `;`),
///    and followed either by a colon (`Findings:`) or by the end of its line (`FINDINGS` alone).
///    A header word inside a sentence ("history of cough") is text.
/// 2. A section runs from its header to the next header. A header seen twice adds to its section.
/// 3. Text before the first header is the findings when no findings header follows (a short
///    report "Lungs clear. IMPRESSION: normal."); otherwise it is a title and is dropped.
/// 4. A report with no header at all: if it has several paragraphs (separated by a blank line),
///    the last paragraph is the impression and the rest the findings; a single paragraph is the
///    findings — radiologists write the conclusion last.
/// Whitespace is collapsed; numbered items ("1. … 2. …") are kept as written.
public enum SectionParser {
    public static func parse(_ text: String) -> ReportSections {
        let bytes = Array(text.utf8)
        let headers = findHeaders(in: bytes)
        var sections = ReportSections()
        guard let first = headers.first else { return parseHeaderless(text) }

        for (index, header) in headers.enumerated() {
            let end = index + 1 < headers.count ? headers[index + 1].start : bytes.count
            sections.append(String(decoding: bytes[header.contentStart..<end], as: UTF8.self), to: header.kind)
        }
        let preamble = String(decoding: bytes[0..<first.start], as: UTF8.self)
        if !headers.contains(where: { $0.kind == .findings }) {
            sections.append(preamble, to: .findings)
        }
        return sections
    }

    struct Header: Equatable {
        let kind: SectionKind
        let start: Int         // first byte of the header word
        let contentStart: Int  // first byte after the colon or the header's line
    }

    static func findHeaders(in bytes: [UInt8]) -> [Header] {
        var headers: [Header] = []
        var position = 0
        while position < bytes.count {
            if let boundary = boundaryKind(before: position, in: bytes),
               isLetter(bytes[position]),
               let header = matchHeader(at: position, in: bytes, boundary: boundary) {
                headers.append(header)
                position = header.contentStart
            } else {
                position += 1
            }
        }
        return headers
    }

    enum Boundary { case line, sentence }

    /// What precedes `position`, skipping spaces and tabs: the start of a line, a sentence's end, or neither.
    static func boundaryKind(before position: Int, in bytes: [UInt8]) -> Boundary? {
        if position > 0 && isLetter(bytes[position - 1]) { return nil }
        var i = position - 1
        while i >= 0 && (bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t")) { i -= 1 }
        if i < 0 || bytes[i] == UInt8(ascii: "\n") || bytes[i] == UInt8(ascii: "\r") { return .line }
        if bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: ";") { return i < position - 1 ? .sentence : nil }
        return nil
    }

    static func matchHeader(at start: Int, in bytes: [UInt8], boundary: Boundary) -> Header? {
        for spelling in SectionHeader.spellings {
            guard let afterName = match(spelling.name, at: start, in: bytes) else { continue }
            var i = afterName
            while i < bytes.count && (bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t")) { i += 1 }
            if i < bytes.count && bytes[i] == UInt8(ascii: ":") {
                return Header(kind: spelling.kind, start: start, contentStart: i + 1)
            }
            // A header without a colon must stand alone on its own line.
            if boundary == .line && (i == bytes.count || bytes[i] == UInt8(ascii: "\n") || bytes[i] == UInt8(ascii: "\r")) {
                return Header(kind: spelling.kind, start: start, contentStart: i)
            }
        }
        return nil
    }

    /// Matches `name` (lower-case ASCII, single spaces) at `start`, ignoring case and letting any
    /// run of blanks stand for a space; returns the index after the match, at a word boundary.
    static func match(_ name: String, at start: Int, in bytes: [UInt8]) -> Int? {
        var i = start
        for expected in name.utf8 {
            if expected == UInt8(ascii: " ") {
                guard i < bytes.count, isBlank(bytes[i]) else { return nil }
                while i < bytes.count && isBlank(bytes[i]) { i += 1 }
                continue
            }
            guard i < bytes.count, lowercased(bytes[i]) == expected else { return nil }
            i += 1
        }
        if i < bytes.count && isLetter(bytes[i]) { return nil }
        return i
    }

    static func parseHeaderless(_ text: String) -> ReportSections {
        let paragraphs = paragraphs(of: text)
        var sections = ReportSections()
        guard let last = paragraphs.last else { return sections }
        if paragraphs.count == 1 {
            sections.append(last, to: .findings)
        } else {
            sections.append(paragraphs.dropLast().joined(separator: " "), to: .findings)
            sections.append(last, to: .impression)
        }
        return sections
    }

    /// Blocks of text separated by a line that holds nothing but blanks.
    static func paragraphs(of text: String) -> [String] {
        var result: [String] = []
        var current: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.allSatisfy(\.isWhitespace) {
                if !current.isEmpty { result.append(current.joined(separator: "\n")) }
                current = []
            } else {
                current.append(line)
            }
        }
        if !current.isEmpty { result.append(current.joined(separator: "\n")) }
        return result.filter { !TextNormaliser.normalise($0).isEmpty }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte + 32 : byte
    }
}
