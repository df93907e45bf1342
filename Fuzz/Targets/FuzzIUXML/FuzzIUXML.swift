import FuzzSupport
import Reports

/// The IU/OpenI XML reader on any bytes: a report, or its `ParseError` — never a crash.
@main enum FuzzIUXML {
    static func main() {
        FuzzInput.main { bytes in
            _ = try? IUReport.parse(bytes)
        }
    }
}
