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
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum ReportReader {
    /// The longest report accepted: real chest X-ray reports are a few kilobytes.
    public static let maxBytes = 256 * 1024

    public static func sections(of body: [UInt8], format: ReportFormat) throws(ReportError) -> ReportSections {
        guard body.count <= maxBytes else {
            throw ReportError("report of \(body.count) bytes exceeds the bound of \(maxBytes)")
        }
        let sections: ReportSections
        switch format {
        case .iuXML:
            do { sections = try IUReport.parse(body).sections } catch { throw ReportError(error.description) }
        case .text:
            guard let text = String(validating: body, as: UTF8.self) else { throw ReportError("report is not valid UTF-8") }
            sections = SectionParser.parse(text)
        }
        guard !sections.isEmpty else { throw ReportError("empty report: no text in any section") }
        return sections
    }
}
