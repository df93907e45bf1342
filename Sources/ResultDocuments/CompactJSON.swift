/// A JSON document written compactly with its keys sorted — for the documents RadStream writes,
/// byte for byte what Foundation's `JSONSerialization` writes with `.sortedKeys` and
/// `.withoutEscapingSlashes` (a test holds them to it), at a twentieth of the cost: on Linux that
/// serialisation bridges every value through NSDictionary and NSNumber, about 0.8 ms per
/// DiagnosticReport, a seventh of the image daemon's time when the result publisher ran beside
/// the stream.
indirect enum CompactJSON: Equatable {
    case string(String), number(Double), bool(Bool), array([CompactJSON]), object([String: CompactJSON])

    var bytes: [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(4096)
        write(into: &output)
        return output
    }

    func write(into output: inout [UInt8]) {
        switch self {
        case .string(let text): Self.write(text, into: &output)
        case .number(let value): output += Array(Self.text(of: value).utf8)
        case .bool(let value): output += Array((value ? "true" : "false").utf8)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            // By their bytes. (Foundation collates, "_" before letters and "a" before "B"; for
            // lowercase-led camel-case keys such as FHIR's the orders agree.)
            for (index, key) in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.write(key, into: &output)
                output.append(UInt8(ascii: ":"))
                members[key]!.write(into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Swift's shortest round-trip form without a trailing ".0" ("1", "-0", "0.1234",
    /// "1e+16"), as Foundation writes numbers.
    static func text(of value: Double) -> String {
        let text = "\(value)"
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }

    /// A string literal: quote, backslash and control characters escaped, the rest as UTF-8
    /// (slashes too).
    static func write(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): output += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: output += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: output += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

// Literals, so that a document reads as the JSON it writes.
extension CompactJSON: ExpressibleByStringInterpolation, ExpressibleByBooleanLiteral, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    init(stringLiteral value: String) { self = .string(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(floatLiteral value: Double) { self = .number(value) }
    init(integerLiteral value: Int) { self = .number(Double(value)) }
    init(arrayLiteral elements: CompactJSON...) { self = .array(elements) }
    init(dictionaryLiteral members: (String, CompactJSON)...) { self = .object(Dictionary(uniqueKeysWithValues: members)) }
}
