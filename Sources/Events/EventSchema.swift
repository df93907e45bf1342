/// The versioned `schema` field of every event. A consumer refuses a version it does not know
/// rather than guess at its meaning; `schemas/events/*.schema.json` describe each version.
public enum EventSchema: String, Sendable, CaseIterable {
    case imageV1 = "radstream.image.v1"
    case reportV1 = "radstream.report.v1"

    public var kind: EventKind {
        switch self {
        case .imageV1: .image
        case .reportV1: .report
        }
    }
}

public enum EventKind: String, Sendable, CaseIterable {
    case image
    case report
}
