/// Which patterns can match a sentence at all, told without running them: every match of a
/// pattern holds one of a few runs of plain characters ("atelecta" in `atelecta(?:sis|ses|tic)`;
/// one of "interstitial", "reticular", "reticulonodular" in `(?:interstitial|reticular|
/// reticulonodular) markings`), and where none of them occurs in the sentence the pattern cannot
/// match there. Most rules match no sentence, and running ICU's matcher for each of them was
/// most of reading a new sentence.
///
/// Only for text of ASCII characters: the patterns match case-insensitively, and outside ASCII
/// case folding makes other characters match ("K", the Kelvin sign, is a "k"), which a byte
/// search would miss.
struct RequiredLiterals: Sendable {
    /// Lowercased; nil when some alternative has none (that pattern must always be run).
    let literals: [[UInt8]]?

    init(alternatives: [String]) {
        var literals: [[UInt8]] = []
        for alternative in alternatives {
            guard let required = Self.requiredRuns(of: alternative) else {
                self.literals = nil
                return
            }
            literals += required.map { Array($0.lowercased().utf8) }
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

    /// Runs of characters one of which every match of `pattern` holds (or the text around it,
    /// for a lookaround), none empty: of the pattern's required parts — runs of characters
    /// outside any class, escape or group, and groups that are neither quantified nor negative
    /// lookarounds — the one whose shortest run is longest; for a top-level alternation, its
    /// branches' together. nil for a pattern that has none, or a construct it does not know.
    static func requiredRuns(of pattern: String) -> [String]? {
        let characters = Array(pattern)
        // Top-level branches first: a match holds one of a branch's runs for some branch.
        var branches: [String] = [], branchStart = 0, index = 0
        while index < characters.count {
            switch characters[index] {
            case "|":
                branches.append(String(characters[branchStart..<index]))
                branchStart = index + 1
                index += 1
            case ")": return nil
            default:
                guard let past = end(ofAtomAt: index, in: characters) else { return nil }
                index = past
            }
        }
        guard branches.isEmpty else {
            branches.append(String(characters[branchStart...]))
            var runs: [String] = []
            for branch in branches {
                guard let required = requiredRuns(ofSequence: Array(branch)) else { return nil }
                runs += required
            }
            return runs
        }
        return requiredRuns(ofSequence: characters)
    }

    /// `requiredRuns` of a pattern without a top-level alternation.
    private static func requiredRuns(ofSequence characters: [Character]) -> [String]? {
        var candidates: [[String]] = [], run = ""
        func endRun() {
            if !run.isEmpty { candidates.append([run]) }
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
            case "(", "[", "\\":
                // A group, class or escape breaks the run. What a group holds is required too
                // unless it is quantified or a negative lookaround (a lookaround's text is in the
                // sentence, though not in the match: the sentence is what is searched).
                endRun()
                guard let past = end(ofAtomAt: index, in: characters) else { return nil }
                if character == "(", !isQuantifier(past) {
                    var inner = String(characters[(index + 1)..<(past - 1)])
                    if let prefix = ["?:", "?<=", "?="].first(where: inner.hasPrefix) { inner.removeFirst(prefix.count) }
                    if !inner.hasPrefix("?"), let required = requiredRuns(of: inner) { candidates.append(required) }
                }
                index = past
                skipQuantifier(&index)
                continue
            case "|", ")", "]", "{", "*", "+", "?":
                // A parenthesis, bracket or quantifier out of place.
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
        // The part whose shortest run is longest is the rarest in text; then the one with fewer runs.
        func shortest(_ runs: [String]) -> Int { runs.map(\.count).min() ?? 0 }
        return candidates.max { (shortest($0), -$0.count) < (shortest($1), -$1.count) }
    }

    /// The index just past the group, class or escape (or plain character) at `index`; nil for
    /// a group or class that never closes.
    private static func end(ofAtomAt index: Int, in characters: [Character]) -> Int? {
        switch characters[index] {
        case "\\": return min(index + 2, characters.count)
        case "[": return characters[(index + 1)...].firstIndex(of: "]").map { $0 + 1 }
        case "(":
            var inner = index + 1
            while inner < characters.count && characters[inner] != ")" {
                guard let past = end(ofAtomAt: inner, in: characters) else { return nil }
                inner = past
            }
            return inner < characters.count ? inner + 1 : nil
        default: return index + 1
        }
    }
}
