import Foundation

/// A CheXpert-style labeler: finds the mentions of the 14 observations in a report's findings
/// and impression, decides for each whether it is negated or uncertain from the words around it
/// in its clause, and keeps per observation the strongest status among its mentions (positive,
/// then uncertain, then negative; absent when never mentioned). "No Finding" is positive when no
/// observation other than support devices is positive or uncertain, and nothing else abnormal
/// (`MentionRules.otherFindings`: emphysema, scoliosis, a granuloma, …) is either; absent otherwise
/// — as the CheXpert labeler defines it. The rules are in `MentionRules`; their limits are in
/// docs/models/labeler.md.
public struct ReportLabeler: Sendable {
    /// Changes whenever the rules change: stored beside every label the daemon writes.
    public static let version = "rules-2"

    /// A regular expression with the literals every match of it holds: run only on text where
    /// one of them occurs (most patterns match no sentence, and ICU's matcher was most of labeling).
    private struct GuardedPattern: @unchecked Sendable {  // NSRegularExpression is immutable once made
        let expression: NSRegularExpression
        let literals: RequiredLiterals

        /// `pattern`: `alternatives` joined, case-insensitive.
        init(_ pattern: String, alternatives: [String]) {
            expression = try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
            literals = RequiredLiterals(alternatives: alternatives)
        }

        /// Every match in all of `text`. `bytes`: the text's, lowercased, when it is ASCII; nil:
        /// the pattern runs regardless.
        func matches(in text: String, bytes: [UInt8]?) -> [NSTextCheckingResult] {
            if let bytes, !literals.mayMatch(bytes) { return [] }
            return expression.matches(in: text, range: NSRange(location: 0, length: (text as NSString).length))
        }
    }

    private struct Rule: Sendable {
        /// nil: one of the other findings, which only No Finding hears of.
        let observation: Observation?
        let pattern: GuardedPattern
        let isNormalPhrase: Bool
    }

    private let rules: [Rule]
    private let negationBefore: GuardedPattern
    private let negationAfter: GuardedPattern
    private let uncertainty: GuardedPattern
    private let pseudoNegation: GuardedPattern
    private let clauseBreak: GuardedPattern
    /// Whether a pattern that cannot match a text (none of its required literals is in it) is
    /// skipped: off only to show that skipping changes no label.
    private let skipsPatternsThatCannotMatch: Bool
    /// Every sentence's mentions, by its words: reports repeat sentences word for word ("The
    /// lungs are clear.": 64% of the IU reports' sentences are ones seen before), and scanning a
    /// sentence with every rule was most of labeling. Shared by the labeler's copies.
    private let sentenceMemo: ContentMemo<String, [Mention]>

    /// A mention's observation (nil: one of the other findings) and its status.
    typealias Mention = (observation: Observation?, status: ObservationStatus)

    /// `memoCapacity`: sentences whose mentions are kept (two generations of this many; a
    /// sentence is a few hundred bytes).
    public init(memoCapacity: Int = 20_000) {
        self.init(memoCapacity: memoCapacity, skipsPatternsThatCannotMatch: true)
    }

    init(memoCapacity: Int = 20_000, skipsPatternsThatCannotMatch: Bool) {
        self.skipsPatternsThatCannotMatch = skipsPatternsThatCannotMatch
        sentenceMemo = ContentMemo(capacity: memoCapacity)
        func regex(_ alternatives: [String]) -> GuardedPattern {
            GuardedPattern("\\b(?:" + alternatives.joined(separator: "|") + ")\\b", alternatives: alternatives)
        }
        // One alternation per observation (normal phrases first): a sentence is scanned once
        // per rule, so fewer, larger patterns are faster than one per phrase.
        var rules: [Rule] = []
        for observation in Observation.allCases {
            if let phrases = MentionRules.normalPhrases[observation] {
                rules.append(Rule(observation: observation, pattern: regex(phrases), isNormalPhrase: true))
            }
            if let phrases = MentionRules.mentions[observation] {
                rules.append(Rule(observation: observation, pattern: regex(phrases), isNormalPhrase: false))
            }
        }
        rules.append(Rule(observation: nil, pattern: regex(MentionRules.otherFindings), isNormalPhrase: false))
        self.rules = rules
        negationBefore = regex(MentionRules.negationBefore)
        negationAfter = regex(MentionRules.negationAfter)
        uncertainty = regex(MentionRules.uncertainty)
        pseudoNegation = regex(MentionRules.pseudoNegation)
        clauseBreak = GuardedPattern(MentionRules.clauseBreaks.joined(separator: "|"), alternatives: MentionRules.clauseBreaks)
    }

    /// The status of every observation in a report's findings and impression.
    public func label(_ sections: ReportSections) -> [Observation: ObservationStatus] {
        label(text: [sections.findings, sections.impression].compactMap { $0 }.joined(separator: "\n"))
    }

    /// The observations stated in a text: read as positive or uncertain.
    public func statedObservations(in text: String) -> Set<Observation> {
        Set(label(text: text).filter { $0.value == .positive || $0.value == .uncertain }.keys)
    }

    public func label(text: String) -> [Observation: ObservationStatus] {
        var statuses = Dictionary(uniqueKeysWithValues: Observation.allCases.map { ($0, ObservationStatus.absent) })
        var otherFinding = false
        for sentence in Self.sentences(of: text) {
            for (observation, status) in memoisedMentions(in: sentence) {
                guard let observation else { otherFinding = otherFinding || status >= .uncertain; continue }
                if status > statuses[observation]! { statuses[observation] = status }
            }
        }
        let findings = Observation.allCases.filter { $0 != .noFinding && $0 != .supportDevices }
        statuses[.noFinding] = otherFinding || findings.contains { statuses[$0]! >= .uncertain } ? .absent : .positive
        return statuses
    }

    /// The first six words of a text (with the spaces before them): how far after a mention its own words reach.
    private static let firstWords = try! NSRegularExpression(pattern: #"^\s*(?:\S+\s+){0,5}\S*"#)

    /// Sentences: split at a full stop, question or exclamation mark followed by space, and at
    /// line breaks (a decimal point "1.5 cm" is not followed by space).
    /// The whitespace after the mark is dropped, as the rules always read it (a scan of our own:
    /// a regular expression's replacement was a third of labeling a report whose sentences were
    /// all read before).
    static func sentences(of text: String) -> [String] {
        if let sentences = asciiSentences(of: text) { return sentences }
        var marked = String.UnicodeScalarView(), scalars = text.unicodeScalars[...]
        while let scalar = scalars.popFirst() {
            marked.append(scalar)
            // White_Space is what ICU's `\s` matches.
            guard ".!?".unicodeScalars.contains(scalar), scalars.first?.properties.isWhitespace == true else { continue }
            marked.append("\n")
            while scalars.first?.properties.isWhitespace == true { scalars.removeFirst() }
        }
        return String(marked).split(whereSeparator: \.isNewline).map(String.init).filter { !$0.allSatisfy(\.isWhitespace) }
    }

    /// The same split of a text that is all ASCII, over its bytes (nil for any other): most
    /// reports are, and a Character is a grapheme cluster, slow to find. In ASCII, whitespace is
    /// tab, line feed, vertical tab, form feed, carriage return and space, and the line breaks
    /// are the four of them from line feed to carriage return.
    static func asciiSentences(of text: String) -> [String]? {
        var text = text
        return text.withUTF8 { bytes -> [String]? in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
            var sentences: [String] = [], start = 0, index = 0
            func end(at stop: Int) {
                let piece = UnsafeBufferPointer(rebasing: bytes[start..<stop])
                if !piece.allSatisfy(isWhitespace) { sentences.append(String(decoding: piece, as: UTF8.self)) }
            }
            while index < bytes.count {
                let byte = bytes[index]
                if (0x0A...0x0D).contains(byte) {
                    end(at: index)
                    index += 1
                    start = index
                } else if (byte == UInt8(ascii: ".") || byte == UInt8(ascii: "!") || byte == UInt8(ascii: "?")),
                          index + 1 < bytes.count, isWhitespace(bytes[index + 1]) {
                    end(at: index + 1)
                    index += 1
                    while index < bytes.count && isWhitespace(bytes[index]) { index += 1 }
                    start = index
                } else {
                    index += 1
                }
            }
            end(at: bytes.count)
            return sentences
        }
    }

    /// Sentences whose mentions the labeler keeps.
    public var memoisedSentences: Int { sentenceMemo.count }

    private func memoisedMentions(in sentence: String) -> [Mention] {
        if let known = sentenceMemo[sentence] { return known }
        let found = mentions(in: sentence)
        sentenceMemo.store(found, for: sentence)
        return found
    }

    /// Every mention in one sentence with its status. Where a normal phrase and a mention overlap
    /// ("heart size is normal" holds "heart size"), the normal phrase speaks; where a mention lies
    /// within a more specific one ("nodular opacity" holds "opacity"), the specific one speaks.
    private func mentions(in sentence: String) -> [Mention] {
        // "no change" is about change: blank it out (same length, so ranges stay put).
        var cleaned = sentence, bytes = asciiBytes(sentence)
        let blanked = pseudoNegation.matches(in: sentence, bytes: bytes)
        for match in blanked.reversed() {
            cleaned = (cleaned as NSString).replacingCharacters(in: match.range, with: String(repeating: " ", count: match.range.length))
        }
        if !blanked.isEmpty { bytes = asciiBytes(cleaned) }
        let clean = cleaned as NSString
        let breaks = clauseBreak.matches(in: cleaned, bytes: bytes).map(\.range)
        let matches = rules.flatMap { rule in
            rule.pattern.matches(in: cleaned, bytes: bytes).map { (rule: rule, range: $0.range) }
        }
        func overlaps(_ range: NSRange, _ observation: Observation, normalPhrase: Bool) -> Bool {
            matches.contains { $0.rule.observation == observation && $0.rule.isNormalPhrase == normalPhrase && NSIntersectionRange($0.range, range).length > 0 }
        }
        let mentionRanges = matches.filter { !$0.rule.isNormalPhrase }.map(\.range)
        func status(of range: NSRange) -> ObservationStatus {
            self.status(of: range, in: clean, breaks: breaks, mentions: mentionRanges)
        }
        return matches.compactMap { match -> Mention? in
            guard let observation = match.rule.observation else { return (nil, status(of: match.range)) }
            if match.rule.isNormalPhrase { return (observation, .negative) }
            if overlaps(match.range, observation, normalPhrase: true) { return nil }
            if let specific = MentionRules.moreSpecific[observation], overlaps(match.range, specific, normalPhrase: false) { return nil }
            return (observation, status(of: match.range))
        }
    }

    /// A text's bytes, lowercased, when it is ASCII (the terms of the patterns' literals); nil:
    /// every pattern runs.
    private func asciiBytes(_ text: String) -> [UInt8]? {
        skipsPatternsThatCannotMatch && text.utf8.allSatisfy({ $0 < 0x80 }) ? Array(text.lowercased().utf8) : nil
    }

    /// `mentions`: where every mention of the sentence lies, to tell "atelectasis cannot be
    /// excluded" (the hedge is the atelectasis') from "opacity, possibly atelectasis" (the
    /// opacity is seen; what it is, is hedged).
    private func status(of mention: NSRange, in sentence: NSString, breaks: [NSRange], mentions: [NSRange]) -> ObservationStatus {
        // The clause: from the last break before the mention to the first break after it.
        let start = breaks.filter { NSMaxRange($0) <= mention.location }.map(NSMaxRange).max() ?? 0
        let end = breaks.filter { $0.location >= NSMaxRange(mention) }.map(\.location).min() ?? sentence.length
        let before = NSRange(location: start, length: mention.location - start)
        let after = NSRange(location: NSMaxRange(mention), length: end - NSMaxRange(mention))
        let beforeText = sentence.substring(with: before)
        // After the mention only its next few words count ("… cannot be excluded", "… is not
        // seen"): a list goes on after commas, and its other items have words of their own.
        let afterText = sentence.substring(with: after).split(separator: " ", omittingEmptySubsequences: true).prefix(6)
            .joined(separator: " ")
        func lastEnd(_ pattern: GuardedPattern, _ text: String, _ bytes: [UInt8]?) -> Int? {
            pattern.matches(in: text, bytes: bytes).last.map { NSMaxRange($0.range) }
        }
        // Before the mention, the nearest trigger speaks: "may be a small effusion and no pneumothorax".
        let beforeBytes = asciiBytes(beforeText)
        switch (lastEnd(uncertainty, beforeText, beforeBytes), lastEnd(negationBefore, beforeText, beforeBytes)) {
        case (let u?, let n?): return u >= n ? .uncertain : .negative
        case (_?, nil): return .uncertain
        case (nil, _?): return .negative
        case (nil, nil): break
        }
        // After the mention, a hedge followed by another mention names what the finding may be
        // ("opacity suggestive of atelectasis"): the finding itself stands; "versus" hedges both.
        let afterRaw = sentence.substring(with: after) as NSString
        // A hedge's literals are looked for in all of it: none there, none in its first words.
        let mayHedge = asciiBytes(afterRaw as String).map(uncertainty.literals.mayMatch) ?? true
        func window() -> Int {
            Self.firstWords.firstMatch(in: afterRaw as String, range: NSRange(location: 0, length: afterRaw.length))?.range.length ?? 0
        }
        if mayHedge, let hedge = uncertainty.expression.firstMatch(in: afterRaw as String, range: NSRange(location: 0, length: window())) {
            let hedgeEnd = after.location + NSMaxRange(hedge.range)
            let namesWhatFollows = !["versus", "vs"].contains(afterRaw.substring(with: hedge.range).lowercased())
                && mentions.contains { $0.location >= hedgeEnd && NSMaxRange($0) <= end }
            if !namesWhatFollows { return .uncertain }
        }
        if lastEnd(negationAfter, afterText, asciiBytes(afterText)) != nil { return .negative }
        return .positive
    }
}
