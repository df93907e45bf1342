enum TextNormaliser {
    /// Collapses every run of whitespace (newlines, tabs, non-breaking spaces) to one space and
    /// trims the ends: section text is compared and tokenised as a single line.
    static func normalise(_ text: some StringProtocol) -> String {
        // ASCII text byte by byte: the same result, without a Unicode property lookup per scalar
        // (2% of the report stream's CPU, perf).
        text.utf8.allSatisfy { $0 < 0x80 } ? normaliseASCII(text) : normaliseScalars(text)
    }

    /// `normalise` for any text, scalar by scalar.
    static func normaliseScalars(_ text: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.unicodeScalars.append(" ") }
                pendingSpace = false
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `normalise` for ASCII text, whose whitespace is tab to carriage return and the space.
    static func normaliseASCII(_ text: some StringProtocol) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for byte in text.utf8 {
            if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(0x20) }
                pendingSpace = false
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
