/// A report as it arrives: IU/OpenI XML or free text, read into sections by the right parser.
public enum ReportFormat: String, Sendable, Codable, CaseIterable {
    case text
    case iuXML = "iu-xml"

    /// The format a file name implies (`.xml` is IU XML, anything else free text).
    public init(fileName: String) {
        self = fileName.lowercased().hasSuffix(".xml") ? .iuXML : .text
    }
}

public struct ReportError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unreadable
        case tooLarge = "too_large"
        /// Read without fault, but no section holds any text.
        case empty
    }

    public let code: Code
    public let description: String

    public init(_ code: Code = .unreadable, _ description: String) {
        self.code = code
        self.description = description
    }
}

public enum ReportReader {
    /// The longest report accepted: real chest X-ray reports are a few kilobytes.
    public static let maxBytes = 256 * 1024

    public static func sections(of body: [UInt8], format: ReportFormat) throws(ReportError) -> ReportSections {
        guard body.count <= maxBytes else {
            throw ReportError(.tooLarge, "report of \(body.count) bytes exceeds the bound of \(maxBytes)")
        }
        // No real report holds a NUL, and PostgreSQL text cannot store one.
        guard !body.contains(0) else { throw ReportError(.unreadable, "report contains NUL bytes") }
        let sections: ReportSections
        switch format {
        case .iuXML:
            do { sections = try IUReport.parse(body).sections } catch { throw ReportError(.unreadable, error.description) }
        case .text:
            guard let text = String(validating: body, as: UTF8.self) else { throw ReportError(.unreadable, "report is not valid UTF-8") }
            sections = SectionParser.parse(text)
        }
        guard !sections.isEmpty else { throw ReportError(.empty, "empty report: no text in any section") }
        return sections
    }
}
