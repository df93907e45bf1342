/// The Porter stemmer as NLTK implements it in its default mode (NLTK_EXTENSIONS), which is what
/// Google's `rouge-score` stems with: ROUGE figures are only comparable with the same stems.
/// Followed rule by rule from `nltk/stem/porter.py`; a golden file written by NLTK checks it.
public enum PorterStemmer {
    /// Irregular forms NLTK's extensions map directly.
    static let irregular: [String: String] = [
        "skies": "sky", "sky": "sky", "dying": "die", "lying": "lie", "tying": "tie", "news": "news",
        "innings": "inning", "inning": "inning", "outings": "outing", "outing": "outing",
        "cannings": "canning", "canning": "canning", "howe": "howe", "proceed": "proceed",
        "exceed": "exceed", "succeed": "succeed",
    ]

    public static func stem(_ word: String) -> String {
        let lower = word.lowercased()
        if let form = irregular[lower] { return form }
        guard lower.count > 2 else { return lower }
        var w = Array(lower)
        w = step1a(w); w = step1b(w); w = step1c(w); w = step2(w)
        w = step3(w); w = step4(w); w = step5a(w); w = step5b(w)
        return String(w)
    }

    typealias Word = [Character]
    typealias Rule = (suffix: String, replacement: String, condition: ((Word) -> Bool)?)

    static func isConsonant(_ w: Word, _ i: Int) -> Bool {
        switch w[i] {
        case "a", "e", "i", "o", "u": return false
        case "y": return i == 0 ? true : !isConsonant(w, i - 1)
        default: return true
        }
    }

    /// m in [C](VC)^m[V].
    static func measure(_ w: Word) -> Int {
        var count = 0, previousVowel = false
        for i in w.indices {
            let consonant = isConsonant(w, i)
            if consonant && previousVowel { count += 1 }
            previousVowel = !consonant
        }
        return count
    }

    static func containsVowel(_ w: Word) -> Bool { w.indices.contains { !isConsonant(w, $0) } }

    static func endsDoubleConsonant(_ w: Word) -> Bool {
        w.count >= 2 && w[w.count - 1] == w[w.count - 2] && isConsonant(w, w.count - 1)
    }

    static func endsCVC(_ w: Word) -> Bool {
        let n = w.count
        if n >= 3 && isConsonant(w, n - 3) && !isConsonant(w, n - 2) && isConsonant(w, n - 1) && !"wxy".contains(w[n - 1]) { return true }
        return n == 2 && !isConsonant(w, 0) && isConsonant(w, 1)
    }

    static func endsWith(_ w: Word, _ suffix: String) -> Bool { w.count >= suffix.count && w.suffix(suffix.count).elementsEqual(suffix) }

    static func replacingSuffix(_ w: Word, _ suffix: String, _ replacement: String) -> Word {
        Array(w.dropLast(suffix.count)) + Array(replacement)
    }

    /// The first rule whose suffix matches decides: its replacement if its condition holds on the
    /// stem, the word unchanged otherwise. "*d" matches a double consonant ending.
    static func apply(_ w: Word, _ rules: [Rule]) -> Word {
        for rule in rules {
            if rule.suffix == "*d" {
                guard endsDoubleConsonant(w) else { continue }
                let stem = Array(w.dropLast(2))
                return rule.condition.map { $0(stem) } ?? true ? stem + Array(rule.replacement) : w
            }
            guard endsWith(w, rule.suffix) else { continue }
            let stem = Array(w.dropLast(rule.suffix.count))
            return rule.condition.map { $0(stem) } ?? true ? stem + Array(rule.replacement) : w
        }
        return w
    }

    static func positiveMeasure(_ w: Word) -> Bool { measure(w) > 0 }

    static func step1a(_ w: Word) -> Word {
        if endsWith(w, "ies") && w.count == 4 { return replacingSuffix(w, "ies", "ie") }
        return apply(w, [("sses", "ss", nil), ("ies", "i", nil), ("ss", "ss", nil), ("s", "", nil)])
    }

    static func step1b(_ w: Word) -> Word {
        if endsWith(w, "ied") { return replacingSuffix(w, "ied", w.count == 4 ? "ie" : "i") }
        if endsWith(w, "eed") {
            let stem = Array(w.dropLast(3))
            return measure(stem) > 0 ? stem + Array("ee") : w
        }
        var intermediate: Word?
        for suffix in ["ed", "ing"] where endsWith(w, suffix) {
            let stem = Array(w.dropLast(suffix.count))
            if containsVowel(stem) { intermediate = stem; break }
        }
        guard let stem = intermediate, let last = stem.last else { return w }
        return apply(stem, [
            ("at", "ate", nil), ("bl", "ble", nil), ("iz", "ize", nil),
            ("*d", String(last), { _ in !"lsz".contains(last) }),
            ("", "e", { measure($0) == 1 && endsCVC($0) }),
        ])
    }

    static func step1c(_ w: Word) -> Word {
        apply(w, [("y", "i", { $0.count > 1 && isConsonant($0, $0.count - 1) })])
    }

    static func step2(_ w: Word) -> Word {
        if endsWith(w, "alli") && positiveMeasure(Array(w.dropLast(4))) { return step2(replacingSuffix(w, "alli", "al")) }
        let rules: [Rule] = [
            ("ational", "ate", positiveMeasure), ("tional", "tion", positiveMeasure), ("enci", "ence", positiveMeasure),
            ("anci", "ance", positiveMeasure), ("izer", "ize", positiveMeasure), ("bli", "ble", positiveMeasure),
            ("alli", "al", positiveMeasure), ("entli", "ent", positiveMeasure), ("eli", "e", positiveMeasure),
            ("ousli", "ous", positiveMeasure), ("ization", "ize", positiveMeasure), ("ation", "ate", positiveMeasure),
            ("ator", "ate", positiveMeasure), ("alism", "al", positiveMeasure), ("iveness", "ive", positiveMeasure),
            ("fulness", "ful", positiveMeasure), ("ousness", "ous", positiveMeasure), ("aliti", "al", positiveMeasure),
            ("iviti", "ive", positiveMeasure), ("biliti", "ble", positiveMeasure), ("fulli", "ful", positiveMeasure),
            // The "l" of "logi" stays with the stem, so that "geo", "theo" … count like "archaeo".
            ("logi", "log", { _ in positiveMeasure(Array(w.dropLast(3))) }),
        ]
        return apply(w, rules)
    }

    static func step3(_ w: Word) -> Word {
        apply(w, [
            ("icate", "ic", positiveMeasure), ("ative", "", positiveMeasure), ("alize", "al", positiveMeasure),
            ("iciti", "ic", positiveMeasure), ("ical", "ic", positiveMeasure), ("ful", "", positiveMeasure),
            ("ness", "", positiveMeasure),
        ])
    }

    static func step4(_ w: Word) -> Word {
        let greaterThanOne: (Word) -> Bool = { measure($0) > 1 }
        return apply(w, [
            ("al", "", greaterThanOne), ("ance", "", greaterThanOne), ("ence", "", greaterThanOne), ("er", "", greaterThanOne),
            ("ic", "", greaterThanOne), ("able", "", greaterThanOne), ("ible", "", greaterThanOne), ("ant", "", greaterThanOne),
            ("ement", "", greaterThanOne), ("ment", "", greaterThanOne), ("ent", "", greaterThanOne),
            ("ion", "", { measure($0) > 1 && ($0.last == "s" || $0.last == "t") }),
            ("ou", "", greaterThanOne), ("ism", "", greaterThanOne), ("ate", "", greaterThanOne), ("iti", "", greaterThanOne),
            ("ous", "", greaterThanOne), ("ive", "", greaterThanOne), ("ize", "", greaterThanOne),
        ])
    }

    static func step5a(_ w: Word) -> Word {
        guard endsWith(w, "e") else { return w }
        let stem = Array(w.dropLast())
        let m = measure(stem)
        return m > 1 || (m == 1 && !endsCVC(stem)) ? stem : w
    }

    static func step5b(_ w: Word) -> Word {
        apply(w, [("ll", "l", { _ in measure(Array(w.dropLast())) > 1 })])
    }
}
