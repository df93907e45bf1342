import Foundation
import Testing
@testable import Gateway

@Suite("HL7 acknowledgements")
struct HL7AcknowledgementTests {
    let message = try! HL7Message(parsing: HL7MessageTests.fixture("oru-final.hl7"))
    let now = Date(timeIntervalSince1970: 1_796_000_000)

    func segments(_ text: String) -> [[String]] {
        text.split(separator: "\r").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test func anAcceptAnswersTheMessageWithSenderAndReceiverSwapped() throws {
        let ack = segments(HL7Acknowledgement.accepted().encoded(answering: message, controlID: "RS1", now: now))
        #expect(ack.count == 2)
        // MSH-3..6 are the message's MSH-5, 6, 3, 4; its version and processing id are kept.
        #expect(Array(ack[0][0...5]) == ["MSH", "^~\\&", "RADSTREAM", "GENHOSP", "RIS", "GENHOSP"])
        #expect(ack[0][8] == "ACK^R01^ACK" && ack[0][9] == "RS1" && ack[0][10] == "P" && ack[0][11] == "2.5.1")
        #expect(ack[0][6].hasSuffix("+0000") && ack[0][6].count == 19)
        #expect(ack[1] == ["MSA", "AA", "MSG0001", ""])
    }

    @Test func aRefusalCarriesItsCodeAndTheReasonEscaped() throws {
        let refusal = HL7Acknowledgement.refused(HL7Error(.missingField, "no OBX|segment^here"))
        let ack = segments(refusal.encoded(answering: message, controlID: "RS2", now: now))
        #expect(ack[1] == ["MSA", "AR", "MSG0001", #"no OBX\F\segment\S\here"#])
        #expect(ack[2][0] == "ERR" && ack[2][3] == "101^^HL70357" && ack[2][4] == "E" && ack[2][8] == #"no OBX\F\segment\S\here"#)
        // Kafka not taking it is an error to retry (AE), not a refusal.
        let notKept = HL7Acknowledgement.refused(HL7Error(.notKept, "Kafka"))
        #expect(segments(notKept.encoded(answering: message, controlID: "RS3", now: now))[1][1] == "AE")
    }

    @Test func aMessageThatCouldNotBeReadIsStillAnswered() {
        let ack = segments(HL7Acknowledgement.refused(HL7Error(.malformed, "no MSH")).encoded(answering: nil, controlID: "RS4", now: now))
        #expect(ack[0][0] == "MSH" && ack[0][8] == "ACK" && ack[1][0...2] == ["MSA", "AR", ""])
    }
}
