import FuzzSupport
import Reports

/// The free-text section parser on any text (invalid UTF-8 repaired, as a report's body is).
@main enum FuzzSections {
    static func main() {
        FuzzInput.main { bytes in
            _ = SectionParser.parse(String(decoding: bytes, as: UTF8.self))
        }
    }
}
