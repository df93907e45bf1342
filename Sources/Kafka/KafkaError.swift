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
}
