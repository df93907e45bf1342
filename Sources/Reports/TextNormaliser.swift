enum TextNormaliser {
    /// Collapses every run of whitespace (newlines, tabs, non-breaking spaces) to one space and
    /// trims the ends: section text is compared and tokenised as a single line.
    static func normalise(_ text: some StringProtocol) -> String {
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
}
