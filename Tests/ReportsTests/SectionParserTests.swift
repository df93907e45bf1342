import Testing
@testable import Reports

/// One case of the section table: a report as written, and the sections it must give.
struct SectionCase: CustomTestStringConvertible, Sendable {
    let name: String
    let text: String
    let expected: ReportSections
    var testDescription: String { name }
}

@Suite("Free-text report sections")
struct SectionParserTests {
    static let cases: [SectionCase] = [
        SectionCase(name: "upper-case headers on their own lines",
                    text: "FINDINGS\nThe lungs are clear.\n\nIMPRESSION\nNo acute disease.",
                    expected: .init(findings: "The lungs are clear.", impression: "No acute disease.")),
        SectionCase(name: "title case with colons, text on the same line",
                    text: "Findings: Heart size normal.\nImpression: Normal chest.",
                    expected: .init(findings: "Heart size normal.", impression: "Normal chest.")),
        SectionCase(name: "IMPRESSIONS plural",
                    text: "FINDINGS: Clear lungs.\nIMPRESSIONS: Negative.",
                    expected: .init(findings: "Clear lungs.", impression: "Negative.")),
        SectionCase(name: "CONCLUSION opens the impression",
                    text: "FINDINGS: Small left effusion.\nCONCLUSION: Left pleural effusion.",
                    expected: .init(findings: "Small left effusion.", impression: "Left pleural effusion.")),
        SectionCase(name: "FINDINGS AND IMPRESSION is the impression (MIMIC-CXR rule)",
                    text: "INDICATION: Cough.\nFINDINGS AND IMPRESSION: No pneumonia.",
                    expected: .init(impression: "No pneumonia.", indication: "Cough.")),
        SectionCase(name: "history, clinical information and indication are the indication",
                    text: "CLINICAL INFORMATION: Fever.\nHISTORY: Smoker.\nFINDINGS: Clear.",
                    expected: .init(findings: "Clear.", indication: "Fever. Smoker.")),
        SectionCase(name: "comparison and technique",
                    text: "TECHNIQUE: PA and lateral.\nCOMPARISON: None.\nFINDINGS: Normal heart.",
                    expected: .init(findings: "Normal heart.", comparison: "None.", technique: "PA and lateral.")),
        SectionCase(name: "numbered impressions keep their numbers on one line",
                    text: "FINDINGS: Opacity right base.\nIMPRESSION:\n1. Right lower lobe pneumonia.\n2. No effusion.",
                    expected: .init(findings: "Opacity right base.",
                                    impression: "1. Right lower lobe pneumonia. 2. No effusion.")),
        SectionCase(name: "stray spacing and case in headers",
                    text: "   fIndIngs  :   Lungs   clear.\n\n  IMPRESSION :Normal.   ",
                    expected: .init(findings: "Lungs clear.", impression: "Normal.")),
        SectionCase(name: "multi-word header with a line break inside",
                    text: "CLINICAL\nHISTORY: Dyspnea.\nFINDINGS: Clear.",
                    expected: .init(findings: "Clear.", indication: "Dyspnea.")),
        SectionCase(name: "header after a sentence in one paragraph",
                    text: "Heart size is normal. Lungs are clear. IMPRESSION: No acute process.",
                    expected: .init(findings: "Heart size is normal. Lungs are clear.", impression: "No acute process.")),
        SectionCase(name: "header word inside a sentence is text",
                    text: "FINDINGS: Patient with history of asthma. No impression of pneumonia.\nIMPRESSION: Normal.",
                    expected: .init(findings: "Patient with history of asthma. No impression of pneumonia.",
                                    impression: "Normal.")),
        SectionCase(name: "a title before the first header is dropped when findings has a header",
                    text: "FINAL REPORT\nEXAMINATION: Chest PA and lateral.\nFINDINGS: Clear.\nIMPRESSION: Normal.",
                    expected: .init(findings: "Clear.", impression: "Normal.", technique: "Chest PA and lateral.")),
        SectionCase(name: "no header, one paragraph: findings",
                    text: "The cardiomediastinal silhouette is normal. The lungs are clear.",
                    expected: .init(findings: "The cardiomediastinal silhouette is normal. The lungs are clear.")),
        SectionCase(name: "no header, several paragraphs: the last is the impression",
                    text: "Heart is normal.\nLungs are clear.\n\n  \nNo acute cardiopulmonary disease.",
                    expected: .init(findings: "Heart is normal. Lungs are clear.",
                                    impression: "No acute cardiopulmonary disease.")),
        SectionCase(name: "a header repeated adds to its section",
                    text: "FINDINGS: Heart normal.\nFINDINGS: Lungs clear.",
                    expected: .init(findings: "Heart normal. Lungs clear.")),
        SectionCase(name: "an empty section is absent",
                    text: "FINDINGS:\nIMPRESSION: Normal.",
                    expected: .init(impression: "Normal.")),
        SectionCase(name: "Windows line endings",
                    text: "FINDINGS\r\nClear lungs.\r\nIMPRESSION\r\nNormal.\r\n",
                    expected: .init(findings: "Clear lungs.", impression: "Normal.")),
    ]

    @Test(arguments: cases)
    func parses(_ testCase: SectionCase) {
        #expect(SectionParser.parse(testCase.text) == testCase.expected)
    }

    @Test func emptyTextHasNoSections() {
        #expect(SectionParser.parse("  \n\n \t").isEmpty)
    }

    @Test func readerRefusesEmptyAndOversizedReports() {
        #expect(throws: ReportError.self) { try ReportReader.sections(of: Array("   ".utf8), format: .text) }
        let huge = [UInt8](repeating: UInt8(ascii: "a"), count: ReportReader.maxBytes + 1)
        #expect(throws: ReportError.self) { try ReportReader.sections(of: huge, format: .text) }
        #expect(throws: ReportError.self) { try ReportReader.sections(of: [0xFF, 0xFE, 0x00], format: .text) }
    }
}
