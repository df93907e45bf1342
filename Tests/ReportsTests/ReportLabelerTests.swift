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
        ("Borderline heart size.", [:]),  // CheXpert: borderline is uncertain; here "heart size" is no mention
        ("Borderline cardiomegaly.", [.cardiomegaly: .uncertain]),
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
    }
}
