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
        var branches: [String] = [], depth = 0, branchStart = 0, index = 0
        while index < characters.count {
            switch characters[index] {
            case "\\": index += 1
            case "[":
                guard let close = characters[(index + 1)...].firstIndex(of: "]") else { return nil }
                index = close
            case "(": depth += 1
            case ")": depth -= 1
            case "|" where depth == 0:
                branches.append(String(characters[branchStart..<index]))
                branchStart = index + 1
            default: break
            }
            index += 1
        }
        guard depth == 0 else { return nil }
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
            case "(":
                // A group breaks the run; what it holds is required too unless it is quantified
                // or a negative lookaround (a lookaround's text is in the sentence, though not in
                // the match: the sentence is what is searched).
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
                    if !inner.hasPrefix("?"), let required = requiredRuns(of: inner) { candidates.append(required) }
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
}
