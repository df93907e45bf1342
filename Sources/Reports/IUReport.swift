import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A report of the Indiana University chest X-ray collection (OpenI `NLMCXR_reports` XML).
public struct IUReport: Sendable, Equatable {
    public var id: String?
    public var sections: ReportSections
    /// The study's image ids (`parentImage id`), e.g. "CXR1000_IM-0003-1001".
    public var imageIDs: [String]
    /// Manual MeSH terms, e.g. "Opacity/lung/upper lobe/right".
    public var meshMajor: [String]
    public var meshAutomatic: [String]

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public static func parse(_ data: [UInt8]) throws(ParseError) -> IUReport {
        // Foundation's parser on Linux traps (ends the process) on an element or attribute name
        // that is not valid UTF-8 (found by Fuzz/run.sh FuzzIUXML). A document in UTF-8, as the IU
        // reports are and as XML is unless it declares otherwise, must be valid UTF-8 throughout.
        if Self.declaresUTF8(data), String(validating: data, as: UTF8.self) == nil {
            throw ParseError(description: "IU XML: not valid UTF-8")
        }
        // Foundation's parser also dereferences the missing data of a processing instruction
        // like `<?x?>` (found next by the fuzzer), even inside a valid UTF-8 event body that
        // reaches the daemon. The IU format has none but the XML declaration.
        if Self.holdsProcessingInstructions(data) {
            throw ParseError(description: "IU XML: processing instructions other than the XML declaration are not read")
        }
        let reader = Reader()
        let parser = XMLParser(data: Data(data))
        // External entities could read local files: an XML report is untrusted input.
        parser.shouldResolveExternalEntities = false
        parser.delegate = reader
        guard parser.parse() else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "malformed XML"
            throw ParseError(description: "IU XML: \(reason) at line \(parser.lineNumber)")
        }
        // Foundation's parser on Linux accepts a document cut short; count the elements instead.
        guard reader.depth == 0 else { throw ParseError(description: "IU XML: truncated document") }
        guard reader.sawAbstract || reader.report.id != nil else {
            throw ParseError(description: "IU XML: no <Abstract> or <uId>: not an OpenI report")
        }
        return reader.report
    }

    /// Whether the document must be valid UTF-8: unless it declares an encoding that libxml2
    /// transcodes to UTF-8 before Foundation sees a name (anything else, a garbled declaration
    /// included, is read as UTF-8).
    static func declaresUTF8(_ data: [UInt8]) -> Bool {
        let transcoded: Set = ["iso-8859-1", "latin1", "iso-8859-15", "windows-1252", "utf-16", "utf-16le", "utf-16be"]
        let head = String(decoding: data.prefix(200), as: UTF8.self).lowercased()
        guard head.hasPrefix("<?xml"), let end = head.range(of: "?>"),
              let encoding = head[..<end.lowerBound].range(of: "encoding=") else { return true }
        let value = head[encoding.upperBound...].dropFirst().prefix { $0 != "\"" && $0 != "'" }
        return !transcoded.contains(String(value))
    }

    /// Whether `<?` opens anything but a leading `<?xml …?>` declaration.
    static func holdsProcessingInstructions(_ data: [UInt8]) -> Bool {
        var start = data.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0  // a byte-order mark
        let declaration = Array("<?xml".utf8)
        if data[start...].starts(with: declaration), data.count > start + 5, [0x20, 0x09, 0x0A, 0x0D].contains(data[start + 5]) {
            // Past the declaration's closing `?>`; a `<` before it is another instruction inside
            // an unterminated declaration (found by the fuzzer too).
            var index = start + 5
            while index + 1 < data.count && !(data[index] == UInt8(ascii: "?") && data[index + 1] == UInt8(ascii: ">")) {
                if data[index] == UInt8(ascii: "<") { return true }
                index += 1
            }
            start = index + 2
        }
        var index = start
        while index + 1 < data.count {
            if data[index] == UInt8(ascii: "<") && data[index + 1] == UInt8(ascii: "?") { return true }
            index += 1
        }
        return false
    }

    /// Collects the elements we need while the parser streams through the document.
    private final class Reader: NSObject, XMLParserDelegate {
        var report = IUReport(id: nil, sections: ReportSections(), imageIDs: [], meshMajor: [], meshAutomatic: [])
        var sawAbstract = false
        var depth = 0
        private var text = ""
        private var label: String?
        private var collecting = false

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            depth += 1
            switch name {
            case "AbstractText":
                label = attributes["Label"]
                startCollecting()
            case "Abstract": sawAbstract = true
            case "major", "automatic": startCollecting()
            case "uId": report.id = attributes["id"]
            case "parentImage": if let id = attributes["id"] { report.imageIDs.append(id) }
            default: break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if collecting { text += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            depth -= 1
            switch name {
            case "AbstractText":
                if let kind = label.flatMap(Self.kind(ofLabel:)) { report.sections.append(text, to: kind) }
            case "major": report.meshMajor.append(TextNormaliser.normalise(text))
            case "automatic": report.meshAutomatic.append(TextNormaliser.normalise(text))
            default: return
            }
            collecting = false
        }

        private func startCollecting() {
            text = ""
            collecting = true
        }

        private static func kind(ofLabel label: String) -> SectionKind? {
            switch label.uppercased() {
            case "FINDINGS": .findings
            case "IMPRESSION": .impression
            case "INDICATION": .indication
            case "COMPARISON": .comparison
            case "TECHNIQUE": .technique
            default: nil
            }
        }
    }
}
