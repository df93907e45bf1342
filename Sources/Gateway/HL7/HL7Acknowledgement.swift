import Foundation

/// The original-mode acknowledgement of a message: MSA-1 AA (kept), AE (an error the sender
/// should retry: Kafka did not take it) or AR (refused: sending it again will not help).
struct HL7Acknowledgement: Sendable, Equatable {
    enum Code: String, Sendable { case accept = "AA", error = "AE", reject = "AR" }

    let code: Code
    let text: String
    /// HL7 table 0357, for AE and AR.
    let errorCode: String?

    static func accepted(_ note: String = "") -> HL7Acknowledgement { HL7Acknowledgement(code: .accept, text: note, errorCode: nil) }

    static func refused(_ error: HL7Error) -> HL7Acknowledgement {
        HL7Acknowledgement(code: error.kind == .notKept ? .error : .reject, text: error.description, errorCode: error.tableCode)
    }

    /// The ACK's segments, answering `message` (or, when it could not be read at all, a message
    /// of unknown origin: the sender still hears AR).
    func encoded(answering message: HL7Message?, controlID: String, now: Date = Date()) -> String {
        let delimiters = message?.delimiters ?? HL7Message.Delimiters()
        func field(_ number: Int) -> String { message.map { $0.header[number] } ?? "" }
        func escaped(_ value: String) -> String {
            var result = ""
            for character in value {
                switch character {
                case delimiters.escape: result += "\(delimiters.escape)E\(delimiters.escape)"
                case delimiters.field: result += "\(delimiters.escape)F\(delimiters.escape)"
                case delimiters.component: result += "\(delimiters.escape)S\(delimiters.escape)"
                case delimiters.subcomponent: result += "\(delimiters.escape)T\(delimiters.escape)"
                case delimiters.repetition: result += "\(delimiters.escape)R\(delimiters.escape)"
                case "\r", "\n": result += " "
                default: result.append(character)
                }
            }
            return result
        }
        let separator = String(delimiters.field)
        let timestamp = Self.timestamp(now)
        let trigger = message.map { $0.component($0.header[9], 2) } ?? ""
        // Sender and receiver change places; the version and processing id are the message's.
        let msh = ["MSH", delimiters.encodingCharacters, field(5), field(6), field(3), field(4), timestamp, "",
                   "ACK" + (trigger.isEmpty ? "" : "\(delimiters.component)\(trigger)\(delimiters.component)ACK"),
                   controlID, field(11).isEmpty ? "P" : field(11), field(12).isEmpty ? "2.5.1" : field(12)]
        let originalID = message.map { $0.component($0.header[10], 1) } ?? ""
        var segments = [msh.joined(separator: separator),
                        ["MSA", code.rawValue, escaped(originalID), escaped(String(text.prefix(80)))].joined(separator: separator)]
        if let errorCode {
            // ERR-3 the error code, ERR-4 its severity (E), ERR-8 the message for a person.
            let err = ["ERR", "", "", "\(errorCode)\(delimiters.component)\(delimiters.component)HL70357", "E", "", "", "",
                       escaped(String(text.prefix(250)))]
            segments.append(err.joined(separator: separator))
        }
        return segments.joined(separator: "\r") + "\r"
    }

    private static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02d%02d%02d%02d+0000", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!)
    }
}
