/// Which patterns can match a sentence at all, told without running them: each alternative of a
/// pattern has a run of plain characters that every match of it contains ("atelecta" in
/// `atelecta(?:sis|ses|tic)`), and where none of a pattern's runs occurs in the sentence the
/// pattern cannot match there. Most rules match no sentence, and running ICU's matcher for each
/// of them was most of reading a new sentence.
///
/// Only for text of ASCII characters: the patterns match case-insensitively, and outside ASCII
/// case folding makes other characters match ("K", the Kelvin sign, is a "k"), which a byte
/// search would miss.
struct RequiredLiterals: Sendable {
    /// Lowercased, one per alternative; nil when some alternative has no run of its own (that
    /// pattern must always be run).
    let literals: [[UInt8]]?

    init(alternatives: [String]) {
        var literals: [[UInt8]] = []
        for alternative in alternatives {
            guard let literal = Self.longestRequiredRun(of: alternative), !literal.isEmpty else {
                self.literals = nil
                return
            }
            literals.append(Array(literal.lowercased().utf8))
        }
        self.literals = literals
    }

    /// Whether the pattern could match `text`: its bytes, ASCII and lowercased.
    func mayMatch(_ text: [UInt8]) -> Bool {
        guard let literals else { return true }
        return text.withUnsafeBufferPointer { haystack in
            literals.contains { literal in Self.occurs(literal, in: haystack) }
        }
    }

    private static func occurs(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = needle.first, needle.count <= haystack.count else { return needle.isEmpty }
        return needle.withUnsafeBufferPointer { needle in
            var start = 0
            let last = haystack.count - needle.count
            while start <= last {
                if haystack[start] == first {
                    var offset = 1
                    while offset < needle.count && haystack[start + offset] == needle[offset] { offset += 1 }
                    if offset == needle.count { return true }
                }
                start += 1
            }
            return false
        }
    }

    /// The longest run of characters that every match of `pattern` contains (or the text around
    /// it, for a lookaround): the characters outside any class or escape, outside any group but
    /// one that is itself required, a quantified character left out. nil for a pattern with a
    /// top-level alternation or a construct it does not know (then none is assumed).
    static func longestRequiredRun(of pattern: String) -> String? {
        let characters = Array(pattern)
        var runs: [String] = [], run = ""
        func endRun() {
            if !run.isEmpty { runs.append(run) }
            run = ""
        }
        func isQuantifier(_ index: Int) -> Bool {
            index < characters.count && "?*+{".contains(characters[index])
        }
        /// Past a quantifier at `index` ("?", "*", "+", "{m,n}", each maybe lazy or possessive), if any.
        func skipQuantifier(_ index: inout Int) {
            guard isQuantifier(index) else { return }
            if characters[index] == "{" {
                while index < characters.count && characters[index] != "}" { index += 1 }
            }
            index += 1
            if index < characters.count && "?+".contains(characters[index]) { index += 1 }
        }
        var index = 0
        while index < characters.count {
            let character = characters[index]
            switch character {
            case "(":
                // A group breaks the run. What one holds is required too unless it is
                // quantified or a negative lookaround (a lookaround's text is in the sentence,
                // though not in the match: the sentence is what is searched).
                endRun()
                let opening = index
                var depth = 0
                repeat {
                    if characters[index] == "\\" { index += 1 }
                    else if characters[index] == "[" {
                        guard let close = characters[(index + 1)...].firstIndex(of: "]") else { return nil }
                        index = close
                    }
                    else if characters[index] == "(" { depth += 1 }
                    else if characters[index] == ")" { depth -= 1 }
                    index += 1
                } while depth > 0 && index < characters.count
                guard depth == 0 else { return nil }
                if !isQuantifier(index) {
                    var inner = String(characters[(opening + 1)..<(index - 1)])
                    if let prefix = ["?:", "?<=", "?="].first(where: inner.hasPrefix) { inner.removeFirst(prefix.count) }
                    if !inner.hasPrefix("?"), let required = longestRequiredRun(of: inner) { runs.append(required) }
                }
                skipQuantifier(&index)
                continue
            case "[":
                endRun()
                guard let close = characters[(index + 1)...].firstIndex(of: "]") else { return nil }
                index = close + 1
                skipQuantifier(&index)
                continue
            case "\\":
                endRun()
                index += 2
                skipQuantifier(&index)
                continue
            case "|", ")", "]", "{", "*", "+", "?":
                // A top-level alternation, or a parenthesis, bracket or quantifier out of place.
                return nil
            case ".", "^", "$":
                endRun()
                index += 1
                skipQuantifier(&index)
                continue
            default:
                if isQuantifier(index + 1) {
                    // "masse?s?": the "e" may be missing, so the run ends before it.
                    endRun()
                    index += 1
                    skipQuantifier(&index)
                    continue
                }
                guard character.isASCII else { return nil }
                run.append(character)
                index += 1
            }
        }
        endRun()
        return runs.max { $0.count < $1.count }
    }
}
