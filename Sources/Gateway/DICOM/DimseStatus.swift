/// The answer to a C-STORE: success, or a failure with the reason sent back as its Error Comment.
enum DimseStatus: Sendable, Equatable {
    case success
    /// 0xA700: the gateway cannot keep the instance now (Kafka, the disk); the sender may retry.
    case outOfResources(String)
    /// 0xA900: the dataset lacks what its SOP class promises (identifiers, pixel data).
    case doesNotMatchSOPClass(String)
    /// 0xC000: the dataset cannot be read (its pixel data does not decode).
    case cannotUnderstand(String)

    var code: UInt16 {
        switch self {
        case .success: 0x0000
        case .outOfResources: 0xA700
        case .doesNotMatchSOPClass: 0xA900
        case .cannotUnderstand: 0xC000
        }
    }

    var reason: String? {
        switch self {
        case .success: nil
        case .outOfResources(let reason), .doesNotMatchSOPClass(let reason), .cannotUnderstand(let reason): reason
        }
    }
}
