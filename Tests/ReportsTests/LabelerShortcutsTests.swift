import Foundation
import TestSupport
import Testing
@testable import Reports

/// The labeler's shortcuts — its own sentence splitter, and skipping the rules whose required
/// literals a sentence lacks — read every text exactly as the regular expressions they stand in
/// for did.
@Suite("The labeler's shortcuts change no label")
struct LabelerShortcutsTests {
    /// Every IU report's findings and impression (the shared data's 3,362 reports).
    static let texts: [String] = {
        let folder = TestData.root.appending(path: "openi/reports")
        let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        return files.filter { $0.pathExtension == "xml" }.sorted { $0.path < $1.path }.compactMap { file in
            guard let data = try? Data(contentsOf: file), let report = try? IUReport.parse(Array(data)) else { return nil }
            let text = [report.sections.findings, report.sections.impression].compactMap { $0 }.joined(separator: "\n")
            return text.isEmpty ? nil : text
        }
    }()

    /// What the splitter replaced: a full stop, question or exclamation mark and the whitespace
    /// after it became the mark and a line break.
    static func sentencesByRegularExpression(of text: String) -> [String] {
        text.replacingOccurrences(of: #"([.!?])\s+"#, with: "$1\n", options: .regularExpression)
            .split(whereSeparator: \.isNewline).map(String.init).filter { !$0.allSatisfy(\.isWhitespace) }
    }

    @Test func theSplitterSplitsAsTheRegularExpressionDid() throws {
        try #require(Self.texts.count > 3_000, "the IU reports under \(TestData.root.path)")
        for text in Self.texts { #expect(ReportLabeler.sentences(of: text) == Self.sentencesByRegularExpression(of: text), "\(text)") }
        // After each mark, every character of the Basic Multilingual Plane (whitespace or not as
        // ICU has it), alone and doubled, then a word.
        var differing: [UInt32] = []
        for value in UInt32(1)...0xFFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let character = String(Character(scalar))
            for mark in [".", "!", "?"] {
                let text = "Heart normal\(mark)\(character)Lungs clear\(mark)\(character)\(character)x \(mark) 1.5 cm\r\nend\(mark)"
                if ReportLabeler.sentences(of: text) != Self.sentencesByRegularExpression(of: text) { differing.append(value) }
            }
        }
        #expect(differing.isEmpty, "differs after U+\(differing.prefix(10).map { String($0, radix: 16) })")
        // ASCII texts take a path of their own: every pair of ASCII characters around each mark.
        var differingPairs: [String] = []
        for first in UInt8(0)..<0x80 {
            for second in UInt8(0)..<0x80 {
                let (a, b) = (Character(Unicode.Scalar(first)), Character(Unicode.Scalar(second)))
                let text = "\(a)x.\(a)\(b)y!\(b)\(a)z?\(b) \(a)"
                #expect(ReportLabeler.asciiSentences(of: text) != nil)
                if ReportLabeler.sentences(of: text) != Self.sentencesByRegularExpression(of: text) { differingPairs.append(text) }
            }
        }
        #expect(differingPairs.isEmpty, "\(differingPairs.prefix(5))")
        #expect(ReportLabeler.asciiSentences(of: "Clear. Café.") == nil)
    }

    @Test func everyMatchHoldsOneOfItsPatternsLiterals() throws {
        let lists = Array(MentionRules.mentions.values) + Array(MentionRules.normalPhrases.values)
            + [MentionRules.otherFindings, MentionRules.pseudoNegation, MentionRules.clauseBreaks, MentionRules.negationBefore,
               MentionRules.negationAfter, MentionRules.uncertainty]
        let sentences = Self.texts.flatMap(ReportLabeler.sentences(of:)).filter { $0.utf8.allSatisfy { $0 < 0x80 } }
        try #require(sentences.count > 10_000)
        var unfiltered: [String] = []
        for alternatives in lists {
            for alternative in alternatives {
                // One alternative at a time, word-bounded as the labeler's rules are.
                let literals = RequiredLiterals(alternatives: [alternative])
                guard literals.literals != nil else { unfiltered.append(alternative); continue }
                let pattern = try NSRegularExpression(pattern: "\\b(?:" + alternative + ")\\b", options: [.caseInsensitive])
                let bare = try NSRegularExpression(pattern: alternative, options: [.caseInsensitive])
                for sentence in sentences {
                    let whole = NSRange(location: 0, length: (sentence as NSString).length)
                    let bytes = Array(sentence.lowercased().utf8)
                    if pattern.firstMatch(in: sentence, range: whole) != nil || bare.firstMatch(in: sentence, range: whole) != nil {
                        #expect(literals.mayMatch(bytes), "\(alternative) matches \(sentence) without \(literals.literals!)")
                    }
                }
            }
        }
        // Every pattern the rules hold has a literal of its own.
        #expect(unfiltered.isEmpty, "\(unfiltered)")
    }

    @Test(arguments: [
        (#"atelecta(?:sis|ses|tic)"#, ["atelecta"]), (#"(?:lobar |segmental )?collapse"#, ["collapse"]),
        (#"masse?s?"#, ["mass"]), (#"mass-?like"#, ["mass"]), (#"air ?space (?:disease|opacit(?:y|ies)|process)"#, ["space "]),
        (#"(?<=borderline )(?:enlarged )?(?:heart size|heart)"#, ["borderline "]), (#"\band (?:the|there|a|an)\b"#, ["and "]),
        (#"(?<!pericardial )effusions?"#, ["effusion"]), (#"tumou?rs?"#, ["tumo"]), (#"a{2,3}bc"#, ["bc"]), (#"no|not"#, ["no", "not"]),
        (#"(?:xy)z"#, ["xy"]), (#"(?<!pleural )scar"#, ["scar"]), (#"[;:]+ then"#, [" then"]),
        (#"(?:interstitial|reticular) (?:markings|pattern)"#, ["interstitial", "reticular"]), (#"no|\w+"#, nil), (#"(?:a|b)?"#, nil),
    ] as [(String, [String]?)])
    func literalsAreWhatEveryMatchHolds(pattern: String, literals: [String]?) {
        #expect(RequiredLiterals.requiredRuns(of: pattern) == literals)
    }

    @Test func skippingRulesChangesNoLabel() throws {
        try #require(Self.texts.count > 3_000)
        let (skipping, runningAll) = (ReportLabeler(memoCapacity: 1), ReportLabeler(memoCapacity: 1, skipsPatternsThatCannotMatch: false))
        // The IU reports, and the same with letters of other scripts and case, where no rule is skipped.
        for text in Self.texts + Self.texts.prefix(300).map({ $0.uppercased() + " Ⅻ" }) {
            #expect(skipping.label(text: text) == runningAll.label(text: text), "\(text)")
        }
    }
}
