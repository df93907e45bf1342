import CKafka

/// A librdkafka failure, translated from its error codes in one place.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String

    public init(code: Int32 = -1, _ message: String) {
        self.code = code
        self.message = message
    }

    init(_ code: rd_kafka_resp_err_t, context: String) {
        self.code = code.rawValue
        self.message = "\(context): \(String(cString: rd_kafka_err2str(code)))"
    }

    public var description: String { message }

    /// A NUL-terminated message that librdkafka wrote into a buffer of ours.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
