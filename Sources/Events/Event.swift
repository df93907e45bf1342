import Foundation

/// A validated event of either kind.
public enum Event: Sendable, Equatable {
    case image(ImageEvent)
    case report(ReportEvent)

    public var studyID: String {
        switch self {
        case .image(let event): event.studyID
        case .report(let event): event.studyID
        }
    }

    /// The bytes a producer sends: compact JSON.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain structs cannot fail.
        switch self {
        case .image(let event): return Array(try! encoder.encode(event))
        case .report(let event): return Array(try! encoder.encode(event))
        }
    }
}
