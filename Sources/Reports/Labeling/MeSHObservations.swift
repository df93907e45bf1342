import Foundation

/// The observations an IU report's manual MeSH terms (`MeSH/major`) name: the signal the labeler
/// is measured against. Terms are `Heading/qualifier/…`; a heading maps to an observation, some
/// only with a qualifier ("Cardiac Shadow/enlarged" is cardiomegaly, "Cardiac Shadow" alone is
/// not). MeSH only lists what is present, so it gives positives: an observation it does not name
/// counts as not positive. Where MeSH's headings and CheXpert's observations cut differently,
/// CheXpert's definitions decide (its mention lists): a round opacity or density is a nodular
/// one, a Lung Lesion; interstitial markings and a lung scar are Lung Opacity.
public enum MeSHObservations {
    static let headings: [String: Observation] = [
        "normal": .noFinding,
        "Pulmonary Atelectasis": .atelectasis,
        "Cardiomegaly": .cardiomegaly,
        "Consolidation": .consolidation,
        "Pulmonary Edema": .edema, "Pulmonary Congestion": .edema,
        "Fractures, Bone": .fracture,
        "Nodule": .lungLesion, "Mass": .lungLesion,
        "Airspace Disease": .lungOpacity, "Infiltrate": .lungOpacity, "Lung Diseases, Interstitial": .lungOpacity,
        "Pleural Effusion": .pleuralEffusion,
        "Pneumonia": .pneumonia,
        "Pneumothorax": .pneumothorax,
        "Catheters, Indwelling": .supportDevices, "Implanted Medical Device": .supportDevices, "Tube, Inserted": .supportDevices,
        "Medical Device": .supportDevices, "Stents": .supportDevices, "Surgical Instruments": .supportDevices,
    ]

    /// Headings that name an observation only with one of these qualifiers.
    static let qualified: [(heading: String, qualifiers: Set<String>, observation: Observation)] = [
        ("Cardiac Shadow", ["enlarged"], .cardiomegaly),
        ("Mediastinum", ["enlarged", "prominent", "widened"], .enlargedCardiomediastinum),
        ("Markings", ["interstitial"], .lungOpacity),
        ("Cicatrix", ["lung"], .lungOpacity),
        ("Costophrenic Angle", ["blunted"], .pleuralEffusion),
        ("Thickening", ["pleura"], .pleuralOther),
        ("Cicatrix", ["pleura"], .pleuralOther),
    ]

    public static func observations(in terms: [String]) -> Set<Observation> {
        var found: Set<Observation> = []
        for term in terms {
            let parts = term.split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let heading = parts.first else { continue }
            if let observation = headings[heading] { found.insert(observation) }
            // Opacity, and Density of the lung: nodular (round) is a lesion, the rest opacity, and
            // reticulonodular (round and interstitial) both.
            if heading == "Opacity" || (heading == "Density" && parts.contains("lung")) || (heading == "Density" && parts.contains("round")) {
                if parts.contains("round") { found.insert(.lungLesion) }
                if !parts.contains("round") || parts.contains("interstitial") { found.insert(.lungOpacity) }
            }
            for rule in qualified where rule.heading == heading && !rule.qualifiers.isDisjoint(with: parts.dropFirst()) {
                found.insert(rule.observation)
            }
        }
        return found
    }
}
