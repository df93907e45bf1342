import Foundation

/// A CheXpert-style labeler: finds the mentions of the 14 observations in a report's findings
/// and impression, decides for each whether it is negated or uncertain from the words around it
/// in its clause, and keeps per observation the strongest status among its mentions (positive,
/// then uncertain, then negative; absent when never mentioned). "No Finding" is positive when no
/// observation other than support devices is positive or uncertain, absent otherwise — as the
/// CheXpert labeler does. The rules are in `MentionRules`; their limits are in docs/models/labeler.md.
public struct ReportLabeler: Sendable {
    /// Changes whenever the rules change: stored beside every label the daemon writes.
    public static let version = "rules-1"

    private struct Rule: @unchecked Sendable {  // NSRegularExpression is immutable once made
        let observation: Observation
        let pattern: NSRegularExpression
        let isNormalPhrase: Bool
    }

    private let rules: [Rule]
    private let negationBefore: NSRegularExpression
    private let negationAfter: NSRegularExpression
    private let uncertainty: NSRegularExpression
    private let pseudoNegation: NSRegularExpression
    private let clauseBreak: NSRegularExpression

    public init() {
        func regex(_ alternatives: [String]) -> NSRegularExpression {
            try! NSRegularExpression(pattern: "\\b(?:" + alternatives.joined(separator: "|") + ")\\b", options: [.caseInsensitive])
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
        self.rules = rules
        negationBefore = regex(MentionRules.negationBefore)
        negationAfter = regex(MentionRules.negationAfter)
        uncertainty = regex(MentionRules.uncertainty)
        pseudoNegation = regex(MentionRules.pseudoNegation)
        clauseBreak = try! NSRegularExpression(pattern: MentionRules.clauseBreaks.joined(separator: "|"), options: [.caseInsensitive])
    }

    /// The status of every observation in a report's findings and impression.
    public func label(_ sections: ReportSections) -> [Observation: ObservationStatus] {
        label(text: [sections.findings, sections.impression].compactMap { $0 }.joined(separator: "\n"))
    }

    public func label(text: String) -> [Observation: ObservationStatus] {
        var statuses = Dictionary(uniqueKeysWithValues: Observation.allCases.map { ($0, ObservationStatus.absent) })
        for sentence in Self.sentences(of: text) {
            for (observation, status) in mentions(in: sentence) where status > statuses[observation]! {
                statuses[observation] = status
            }
        }
        let findings = Observation.allCases.filter { $0 != .noFinding && $0 != .supportDevices }
        statuses[.noFinding] = findings.contains { statuses[$0]! >= .uncertain } ? .absent : .positive
        return statuses
    }

    /// Sentences: split at a full stop, question or exclamation mark followed by space, and at
    /// line breaks (a decimal point "1.5 cm" is not followed by space).
    static func sentences(of text: String) -> [String] {
        text.replacingOccurrences(of: #"([.!?])\s+"#, with: "$1\n", options: .regularExpression)
            .split(whereSeparator: \.isNewline).map(String.init).filter { !$0.allSatisfy(\.isWhitespace) }
    }

    /// Every mention in one sentence with its status. Where a normal phrase and a mention overlap
    /// ("heart size is normal" holds "heart size"), the normal phrase speaks.
    private func mentions(in sentence: String) -> [(Observation, ObservationStatus)] {
        let text = sentence as NSString
        let whole = NSRange(location: 0, length: text.length)
        // "no change" is about change: blank it out (same length, so ranges stay put).
        var cleaned = sentence
        for match in pseudoNegation.matches(in: sentence, range: whole).reversed() {
            cleaned = (cleaned as NSString).replacingCharacters(in: match.range, with: String(repeating: " ", count: match.range.length))
        }
        let clean = cleaned as NSString
        let breaks = clauseBreak.matches(in: cleaned, range: whole).map(\.range)
        var found: [(Observation, ObservationStatus)] = []
        var normalRanges: [Observation: [NSRange]] = [:]
        for rule in rules {
            for match in rule.pattern.matches(in: cleaned, range: whole) {
                if rule.isNormalPhrase {
                    normalRanges[rule.observation, default: []].append(match.range)
                    found.append((rule.observation, .negative))
                    continue
                }
                if normalRanges[rule.observation]?.contains(where: { NSIntersectionRange($0, match.range).length > 0 }) == true { continue }
                found.append((rule.observation, status(of: match.range, in: clean, breaks: breaks)))
            }
        }
        return found
    }

    private func status(of mention: NSRange, in sentence: NSString, breaks: [NSRange]) -> ObservationStatus {
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
        func lastEnd(_ pattern: NSRegularExpression, _ text: String) -> Int? {
            pattern.matches(in: text, range: NSRange(location: 0, length: (text as NSString).length)).last.map { NSMaxRange($0.range) }
        }
        // Before the mention, the nearest trigger speaks: "may be a small effusion and no pneumothorax".
        switch (lastEnd(uncertainty, beforeText), lastEnd(negationBefore, beforeText)) {
        case (let u?, let n?): return u >= n ? .uncertain : .negative
        case (_?, nil): return .uncertain
        case (nil, _?): return .negative
        case (nil, nil): break
        }
        if lastEnd(uncertainty, afterText) != nil { return .uncertain }
        if lastEnd(negationAfter, afterText) != nil { return .negative }
        return .positive
    }
}
