/// The 14 observations of the CheXpert labeler, spelled as the command-line contract spells them.
public enum Observation: String, CaseIterable, Sendable, Codable, Comparable {
    case atelectasis = "Atelectasis"
    case cardiomegaly = "Cardiomegaly"
    case consolidation = "Consolidation"
    case edema = "Edema"
    case enlargedCardiomediastinum = "Enlarged Cardiomediastinum"
    case fracture = "Fracture"
    case lungLesion = "Lung Lesion"
    case lungOpacity = "Lung Opacity"
    case noFinding = "No Finding"
    case pleuralEffusion = "Pleural Effusion"
    case pleuralOther = "Pleural Other"
    case pneumonia = "Pneumonia"
    case pneumothorax = "Pneumothorax"
    case supportDevices = "Support Devices"

    public static func < (a: Observation, b: Observation) -> Bool { a.rawValue < b.rawValue }
}

/// What a report says of an observation, as CheXpert labels it.
public enum ObservationStatus: String, Sendable, Codable, Comparable {
    case positive, uncertain, negative, absent

    /// When several mentions disagree, the strongest wins: positive, then uncertain, then negative.
    var strength: Int {
        switch self {
        case .positive: 3
        case .uncertain: 2
        case .negative: 1
        case .absent: 0
        }
    }

    public static func < (a: ObservationStatus, b: ObservationStatus) -> Bool { a.strength < b.strength }
}
