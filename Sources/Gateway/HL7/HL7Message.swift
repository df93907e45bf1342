/// An HL7 v2 message in the ER7 encoding: segments separated by carriage returns, fields by
/// MSH-1, components, repetitions, escapes and subcomponents by the characters of MSH-2.
struct HL7Message: Sendable {
    struct Delimiters: Sendable, Equatable {
        var field: Character = "|"
        var component: Character = "^"
        var repetition: Character = "~"
        var escape: Character = "\\"
        var subcomponent: Character = "&"

        /// MSH-2 as it is written.
        var encodingCharacters: String { String([component, repetition, escape, subcomponent]) }
    }

    struct Segment: Sendable {
        let name: String
        /// Fields by their HL7 number: `fields[1]` is field 1. For MSH, field 1 is the field
        /// separator itself and field 2 the encoding characters, as the standard counts them.
        let fields: [String]

        subscript(_ number: Int) -> String { number < fields.count ? fields[number] : "" }
    }

    let delimiters: Delimiters
    let segments: [Segment]

    init(parsing text: String) throws(HL7Error) {
        // Segments end with CR; LF and CRLF are taken too (hand-made and Windows-made messages).
        let lines = text.split(omittingEmptySubsequences: true) { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        guard let header = lines.first, header.hasPrefix("MSH"), header.count >= 8 else {
            throw HL7Error(.malformed, "the message does not begin with an MSH segment")
        }
        let characters = Array(header)
        var delimiters = Delimiters()
        delimiters.field = characters[3]
        let encoding = characters[4...].prefix { $0 != delimiters.field }
        guard encoding.count >= 2, encoding.count <= 5, Set(encoding).count == encoding.count, !encoding.contains(delimiters.field) else {
            throw HL7Error(.malformed, "MSH-2 (the encoding characters) is not valid")
        }
        let encodingCharacters = Array(encoding)
        delimiters.component = encodingCharacters[0]
        delimiters.repetition = encodingCharacters[1]
        if encodingCharacters.count > 2 { delimiters.escape = encodingCharacters[2] }
        if encodingCharacters.count > 3 { delimiters.subcomponent = encodingCharacters[3] }
        self.delimiters = delimiters

        segments = try lines.map { line throws(HL7Error) in
            let parts = line.split(separator: delimiters.field, omittingEmptySubsequences: false).map(String.init)
            let name = parts[0]
            guard name.count == 3, name.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) else {
                throw HL7Error(.malformed, "\"\(name.prefix(20))\" is not a segment name")
            }
            if name == "MSH" {
                // MSH-1 is the separator between "MSH" and MSH-2: the split swallowed it.
                return Segment(name: name, fields: [name, String(delimiters.field)] + parts.dropFirst())
            }
            return Segment(name: name, fields: parts)
        }
    }

    var header: Segment { segments[0] }

    func segments(named name: String) -> [Segment] { segments.filter { $0.name == name } }

    /// Component `number` (from 1) of a field's first repetition, unescaped. Subcomponents are
    /// left as they are: the identifiers read here have none, but some RIS write `&IMP`-style
    /// section codes with the subcomponent character in them.
    func component(_ field: String, _ number: Int) -> String {
        let first = field.split(separator: delimiters.repetition, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let components = first.split(separator: delimiters.component, omittingEmptySubsequences: false)
        guard number >= 1, number <= components.count else { return "" }
        return unescaped(String(components[number - 1]))
    }

    /// A field's repetitions, each unescaped whole (a text value's components are its text).
    func repetitions(_ field: String) -> [String] {
        field.split(separator: delimiters.repetition, omittingEmptySubsequences: false).map { unescaped(String($0)) }
    }

    /// HL7's escape sequences: \F\ \S\ \T\ \R\ \E\ for the delimiters, \.br\ a line break,
    /// \Xhh..\ bytes; formatting commands (\H\, \N\, \.sp\, …) are dropped.
    func unescaped(_ value: String) -> String {
        guard value.contains(delimiters.escape) else { return value }
        var result = ""
        var rest = Substring(value)
        while let start = rest.firstIndex(of: delimiters.escape) {
            result += rest[..<start]
            let afterStart = rest.index(after: start)
            guard let end = rest[afterStart...].firstIndex(of: delimiters.escape) else {
                result += rest[start...]
                return result
            }
            let sequence = rest[afterStart..<end]
            switch sequence {
            case "F": result.append(delimiters.field)
            case "S": result.append(delimiters.component)
            case "T": result.append(delimiters.subcomponent)
            case "R": result.append(delimiters.repetition)
            case "E": result.append(delimiters.escape)
            case ".br": result.append("\n")
            default:
                if sequence.first == "X", sequence.count.isMultiple(of: 2) == false {
                    var bytes: [UInt8] = []
                    var index = sequence.index(after: sequence.startIndex)
                    while index < sequence.endIndex {
                        let next = sequence.index(index, offsetBy: 2)
                        if let byte = UInt8(sequence[index..<next], radix: 16) { bytes.append(byte) }
                        index = next
                    }
                    result += String(decoding: bytes, as: UTF8.self)
                }
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}

/// Why a message was refused, with the code of HL7 table 0357 its acknowledgement carries.
struct HL7Error: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        /// Not parseable as HL7: AR, 100 (segment sequence error) or 102 (data type error).
        case malformed
        /// A required field is empty: AR, 101.
        case missingField
        /// A message the gateway does not take: AR, 200.
        case unsupportedMessage
        /// The gateway could not keep it (Kafka): AE, 207; the sender should send it again.
        case notKept
    }

    let kind: Kind
    let description: String

    init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// The dead letter's `radstream.error.code`.
    var deadLetterCode: String {
        switch kind {
        case .malformed: "hl7_malformed"
        case .missingField: "hl7_missing_field"
        case .unsupportedMessage: "hl7_unsupported_message"
        case .notKept: "hl7_not_kept"
        }
    }

    var tableCode: String {
        switch kind {
        case .malformed: "100"
        case .missingField: "101"
        case .unsupportedMessage: "200"
        case .notKept: "207"
        }
    }
}
