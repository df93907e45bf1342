import Foundation
import Logging

/// What happens to an HL7 message: a radiology result becomes a report event, acknowledged AA
/// only once Kafka has it; a message that cannot be (malformed, not a result, no study) is
/// answered AR and kept as a dead letter; Kafka not taking it is AE, and the sender tries again.
struct ReportIntake: Sendable {
    let publisher: GatewayPublisher
    let maxBodyBytes: Int
    let counters: GatewayCounters
    let logger: Logger
    private let controlIDs = ControlIDs()

    init(publisher: GatewayPublisher, maxBodyBytes: Int, counters: GatewayCounters, logger: Logger) {
        self.publisher = publisher
        self.maxBodyBytes = maxBodyBytes
        self.counters = counters
        self.logger = logger
    }

    /// The acknowledgement to send back for `raw`, from `peer`.
    func accept(_ raw: [UInt8], from peer: String) -> String {
        let text = Self.decode(raw)
        var message: HL7Message?
        let acknowledgement: HL7Acknowledgement
        var forwarded = false
        do throws(HL7Error) {
            let parsed = try HL7Message(parsing: text)
            message = parsed
            let result = try RadiologyResult(parsed, maxBodyBytes: maxBodyBytes)
            if let event = result.event {
                do { try publisher.publish(.report(event)) } catch {
                    throw HL7Error(.notKept, "Kafka did not acknowledge the report event: \(error)")
                }
                forwarded = true
                acknowledgement = .accepted()
                logger.debug("report forwarded", metadata: ["study": "\(event.studyID)", "event": "\(event.eventID)"])
            } else {
                acknowledgement = .accepted(result.notForwarded ?? "")
                logger.notice("report not forwarded: \(result.notForwarded ?? "")", metadata: ["peer": "\(peer)"])
            }
        } catch {
            acknowledgement = .refused(error)
            if error.kind == .notKept {
                logger.error("HL7 message not kept: \(error)", metadata: ["peer": "\(peer)"])
            } else {
                logger.warning("HL7 message refused: \(error)", metadata: ["peer": "\(peer)"])
                do { try publisher.deadLetter(raw, code: error.deadLetterCode, reason: error.description, peer: peer) } catch {
                    logger.error("cannot keep the refused HL7 message as a dead letter: \(error)", metadata: ["peer": "\(peer)"])
                }
            }
        }
        counters.count(message: acknowledgement, forwarded: forwarded)
        return acknowledgement.encoded(answering: message, controlID: controlIDs.next())
    }

    /// HL7 v2 is ASCII unless MSH-18 says otherwise; what is not UTF-8 is read as ISO 8859-1,
    /// the other character set RIS commonly send.
    static func decode(_ raw: [UInt8]) -> String {
        String(validating: raw, as: UTF8.self) ?? String(decoding: raw.map { UInt16($0) }, as: UTF16.self)
    }

}

/// The control ids of the gateway's own acknowledgements: unique within a run and across runs.
private final class ControlIDs: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private let prefix = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)

    func next() -> String {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return "RS\(prefix)\(count)"
    }
}
