import FuzzSupport
import Events

/// The event parser on any bytes: an event, or an `EventError` — never a crash.
@main enum FuzzEvents {
    static func main() {
        FuzzInput.main { bytes in
            _ = try? EventParser(maxEventBytes: 1 << 20, maxInlineImageBytes: 256 << 10).parse(bytes)
        }
    }
}
