import Testing
@testable import Reports

@Suite("The CheXpert-style report labeler")
struct ReportLabelerTests {
    static let labeler = ReportLabeler()

    /// (text, the statuses expected; observations not listed must be absent, except No Finding,
    /// which is checked where listed).
    @Test(arguments: [
        ("No pleural effusion.", [Observation.pleuralEffusion: ObservationStatus.negative]),
        ("There is a small right pleural effusion.", [.pleuralEffusion: .positive]),
        ("Findings may represent atelectasis.", [.atelectasis: .uncertain]),
        ("Pneumonia cannot be excluded.", [.pneumonia: .uncertain]),
        ("Atelectasis versus pneumonia in the left base.", [.atelectasis: .uncertain, .pneumonia: .uncertain]),
        ("No suspicious pulmonary opacities.", [.lungOpacity: .negative, .noFinding: .positive]),
        ("No pneumothorax or suspicious focal air space opacity.", [.pneumothorax: .negative, .lungOpacity: .negative]),
        // A list after one negation: every item negated.
        ("No focal consolidation, pneumothorax, or pleural effusion.", [.consolidation: .negative, .pneumothorax: .negative, .pleuralEffusion: .negative, .noFinding: .positive]),
        // Several observations in one sentence, with different statuses.
        ("Cardiomegaly with small bilateral effusions but no pneumothorax.", [.cardiomegaly: .positive, .pleuralEffusion: .positive, .pneumothorax: .negative]),
        ("Possible small effusion and no pneumothorax.", [.pleuralEffusion: .uncertain, .pneumothorax: .negative]),
        // Synonyms.
        ("The heart is enlarged.", [.cardiomegaly: .positive]),
        ("Blunting of the left costophrenic angle.", [.pleuralEffusion: .positive]),
        ("Patchy airspace disease in the right lower lobe.", [.lungOpacity: .positive]),
        ("Left chest pacemaker in place.", [.supportDevices: .positive, .noFinding: .positive]),
        ("Healed left rib fractures.", [.fracture: .positive]),
        ("Mild pulmonary vascular congestion.", [.edema: .positive]),
        // Normal phrases are negative mentions.
        ("Heart size is normal. The cardiomediastinal silhouette is within normal limits.",
         [.cardiomegaly: .negative, .enlargedCardiomediastinum: .negative, .noFinding: .positive]),
        // CheXpert reads "heart size" as a mention, and borderline as uncertain.
        ("Borderline heart size.", [.cardiomegaly: .uncertain]),
        ("The heart is borderline in size.", [.cardiomegaly: .uncertain]),
        ("Borderline cardiomegaly.", [.cardiomegaly: .uncertain]),
        // A sternotomy is an operation, its clips and generators are devices.
        ("Prior sternotomy. Cholecystectomy clips.", [.supportDevices: .positive]),
        ("Cardiac XXXX generator overlies the left chest.", [.supportDevices: .positive]),
        // A nodular opacity is a lesion, not also an opacity; a calcified one too (as MeSH indexes it).
        ("Nodular opacity in the right upper lobe.", [.lungLesion: .positive]),
        ("Interstitial markings are increased. Biapical scarring.", [.lungOpacity: .positive, .noFinding: .absent]),
        // The opacity is seen; what it is, is hedged.
        ("Streaky opacity at the left base, possibly atelectasis.", [.lungOpacity: .positive, .atelectasis: .uncertain]),
        ("Patchy opacity concerning for pneumonia.", [.lungOpacity: .positive, .pneumonia: .uncertain]),
        ("Atelectasis versus scarring at the left base.", [.atelectasis: .uncertain, .lungOpacity: .uncertain]),
        ("Calcified granuloma. Sequela of prior granulomatous infection.", [.noFinding: .absent]),
        ("Mild prominence of the superior mediastinum.", [.enlargedCardiomediastinum: .positive]),
        ("The pulmonary XXXX are engorged.", [.edema: .positive]),
        ("Biapical pleural thickening.", [.pleuralOther: .positive]),
        // "No change" speaks of change, not of the finding.
        ("No change in the left lower lobe consolidation.", [.consolidation: .positive]),
        ("The previously seen pneumothorax has resolved.", [.pneumothorax: .negative]),
        ("No pericardial effusion.", [.noFinding: .positive]),
        ("Lungs are clear. No acute cardiopulmonary disease.", [.noFinding: .positive]),
    ])
    func labels(text: String, expected: [Observation: ObservationStatus]) {
        let labels = Self.labeler.label(text: text)
        for observation in Observation.allCases where observation != .noFinding || expected[.noFinding] != nil {
            #expect(labels[observation] == (expected[observation] ?? .absent), "\(observation.rawValue) in \"\(text)\"")
        }
    }

    @Test func noFindingIsAbsentWhenSomethingIsFoundOrUncertain() {
        #expect(Self.labeler.label(text: "Small left effusion.")[.noFinding] == .absent)
        #expect(Self.labeler.label(text: "Possible pneumonia.")[.noFinding] == .absent)
        #expect(Self.labeler.label(text: "Pacemaker. Lungs clear.")[.noFinding] == .positive, "devices are not findings")
    }

    /// CheXpert's No Finding: not only none of the 13 findings, nothing else abnormal either —
    /// and what is said to be absent does not count.
    @Test(arguments: [
        ("Lungs are clear. Mild thoracic levoscoliosis.", ObservationStatus.absent),
        ("Heart size normal. Degenerative changes of the spine.", .absent),
        ("Lungs are hyperexpanded, consistent with emphysema.", .absent),
        ("Tortuous calcified aorta. Lungs clear.", .absent),
        ("No scoliosis. No acute bony abnormality. Lungs are clear.", .positive),
        ("Lungs are clear. Heart size is normal. No pneumothorax.", .positive),
    ])
    func noFindingIsCheXpertsNormal(text: String, expected: ObservationStatus) {
        #expect(Self.labeler.label(text: text)[.noFinding] == expected, "\(text)")
    }

    @Test func theLabelerReadsFindingsAndImpressionOnly() {
        let sections = ReportSections(findings: "Heart size normal.", impression: "No pneumothorax.",
                                      indication: "Rule out pneumonia.")
        let labels = Self.labeler.label(sections)
        #expect(labels[.pneumonia] == .absent && labels[.pneumothorax] == .negative && labels[.cardiomegaly] == .negative)
    }

    @Test func meshTermsMapToObservations() {
        #expect(MeSHObservations.observations(in: ["normal"]) == [.noFinding])
        #expect(MeSHObservations.observations(in: ["Cardiac Shadow/enlarged/mild", "Costophrenic Angle/right/blunted"])
            == [.cardiomegaly, .pleuralEffusion])
        #expect(MeSHObservations.observations(in: ["Cardiac Shadow", "Calcified Granuloma/lung"]).isEmpty)
        #expect(MeSHObservations.observations(in: ["Catheters, Indwelling/right", "Thickening/pleura/apex"]) == [.supportDevices, .pleuralOther])
        // CheXpert's definitions: a round opacity is a lesion, interstitial markings and a lung scar are opacity.
        #expect(MeSHObservations.observations(in: ["Opacity/lung/upper lobe/right/round"]) == [.lungLesion])
        #expect(MeSHObservations.observations(in: ["Density/thorax/round/multiple"]) == [.lungLesion])
        #expect(MeSHObservations.observations(in: ["Opacity/lung/base/left"]) == [.lungOpacity])
        #expect(MeSHObservations.observations(in: ["Opacity/lung/bilateral/interstitial/reticular/round"]) == [.lungLesion, .lungOpacity])
        #expect(MeSHObservations.observations(in: ["Markings/lung/interstitial/chronic", "Cicatrix/lung/apex"]) == [.lungOpacity])
        #expect(MeSHObservations.observations(in: ["Density/mediastinum", "Markings/bronchovascular"]).isEmpty)
    }
}

@Suite("Labeler evaluation against MeSH")
struct LabelerEvaluationTests {
    static func report(findings: String, mesh: [String]) throws -> IUReport {
        try IUReport.parse(Array("""
            <eCitation><MedlineCitation><Article><Abstract>
            <AbstractText Label="FINDINGS">\(findings)</AbstractText>
            </Abstract></Article></MedlineCitation>
            <MeSH>\(mesh.map { "<major>\($0)</major>" }.joined())</MeSH></eCitation>
            """.utf8))
    }

    /// Counted as MeSH would have it: a positive where MeSH names the observation is a true
    /// positive, an uncertain one counts only loosely, and No Finding is left out of the
    /// findings' micro-F1.
    @Test func countsAgainstMeSHStrictlyAndLoosely() throws {
        var evaluation = LabelerEvaluation()
        let labeler = ReportLabeler()
        evaluation.add(try Self.report(findings: "Large right pleural effusion. The heart is enlarged.", mesh: ["Pleural Effusion/right/large", "Cardiomegaly"]),
                       id: "1", labeler: labeler)
        evaluation.add(try Self.report(findings: "Possible small left pleural effusion.", mesh: ["Pleural Effusion/left/small"]), id: "2", labeler: labeler)
        evaluation.add(try Self.report(findings: "The lungs are clear. Heart size is normal.", mesh: ["normal"]), id: "3", labeler: labeler)
        #expect(evaluation.reports == 3)
        #expect(evaluation.strict[.pleuralEffusion] == .init(truePositive: 1, falsePositive: 0, falseNegative: 1))
        #expect(evaluation.loose[.pleuralEffusion] == .init(truePositive: 2, falsePositive: 0, falseNegative: 0))
        #expect(evaluation.strict[.cardiomegaly] == .init(truePositive: 1, falsePositive: 0, falseNegative: 0))
        #expect(evaluation.strict[.noFinding]?.truePositive == 1)
        // Findings: 2 true positives, 1 false negative → 4 / 5.
        #expect(abs(evaluation.findingsMicroF1 - 0.8) < 1e-12)
        #expect(evaluation.disagreements.map(\.reportID) == ["2"])
    }

    /// Uncertain reads as positive where that raises F1 on the reports it is chosen on, and the
    /// counts then take the loose count of those observations only.
    @Test func uncertainReadsAsTheChoosingReportsSay() throws {
        let labeler = ReportLabeler()
        var choosing = LabelerEvaluation()
        // MeSH indexes borderline hearts as cardiomegaly, and not a pneumonia that cannot be excluded.
        choosing.add(try Self.report(findings: "Borderline heart size.", mesh: ["Cardiomegaly/borderline"]), id: "1", labeler: labeler)
        choosing.add(try Self.report(findings: "Pneumonia cannot be excluded.", mesh: ["normal"]), id: "2", labeler: labeler)
        #expect(choosing.uncertainReadAsPositive == [.cardiomegaly])
        var measured = LabelerEvaluation()
        measured.add(try Self.report(findings: "The heart is borderline in size. Possible pneumonia.", mesh: ["Cardiomegaly/borderline"]),
                     id: "3", labeler: labeler)
        let counts = measured.counts(uncertainAsPositive: choosing.uncertainReadAsPositive)
        #expect(counts[.cardiomegaly] == .init(truePositive: 1, falsePositive: 0, falseNegative: 0))
        #expect(counts[.pneumonia] == .init(truePositive: 0, falsePositive: 0, falseNegative: 0))
        #expect(measured.microF1(uncertainAsPositive: [.cardiomegaly]).findings == 1)
        #expect(measured.findingsMicroF1 == 0, "strictly, the uncertain heart is no positive")
    }

    /// A sentence read before is read as it was: labels through the memo (one so small that it
    /// forgets as it goes, and one that keeps everything) are the labels of a labeler that never
    /// saw the text, and the memo keeps each distinct sentence once.
    @Test func sentencesReadBeforeAreReadAsTheyWere() {
        let texts = [
            "No pleural effusion. The lungs are clear.", "The lungs are clear. Heart size is normal.",
            "Pneumonia cannot be excluded. No pleural effusion.", "No pneumothorax. The lungs are clear.",
            "Heart size is normal. Possible small effusion and no pneumothorax.", "No pleural effusion. The lungs are clear.",
        ]
        let (forgetful, keeping) = (ReportLabeler(memoCapacity: 1), ReportLabeler())
        for _ in 0..<2 {
            for text in texts {
                let fresh = ReportLabeler().label(text: text)
                #expect(forgetful.label(text: text) == fresh && keeping.label(text: text) == fresh, "\(text)")
            }
        }
        #expect(keeping.memoisedSentences == 6)
        #expect(forgetful.memoisedSentences <= 2)
    }
}
