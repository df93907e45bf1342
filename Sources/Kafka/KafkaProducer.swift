import CKafka
import Foundation

/// Publishes records. Messages are keyed (the study id) and spread over partitions with the
/// Java client's murmur2 partitioner, so that every client puts a study on the same partition.
///
/// `@unchecked Sendable`: librdkafka's producer calls are thread-safe, and failed delivery
/// reports are kept behind their own lock.
public final class KafkaProducer: @unchecked Sendable {
    private let client: KafkaClient
    private let deliveries: DeliveryReports

    public init(configuration: KafkaConfiguration) throws(KafkaError) {
        var configuration = configuration.forProducer()
        if configuration["partitioner"] == nil { configuration["partitioner"] = "murmur2_random" }
        if configuration["message.max.bytes"] == nil { configuration["message.max.bytes"] = "10000000" }
        let conf = try configuration.makeConf()
        let reports = DeliveryReports()
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(reports).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
            guard let message else { return }
            if let waiter = message.pointee._private {
                // A record someone waits for (`publish`): its waiter was retained when it was sent.
                Unmanaged<DeliveryWaiter>.fromOpaque(waiter).takeRetainedValue().resolve(message.pointee.err)
            } else if let opaque {
                Unmanaged<DeliveryReports>.fromOpaque(opaque).takeUnretainedValue().record(message.pointee.err)
            }
        }
        client = try KafkaClient(type: RD_KAFKA_PRODUCER, conf: conf)
        deliveries = reports
    }

    /// Enqueues one record; waits for room when librdkafka's local queue is full, for at most
    /// `waitingAtMost` (nil: as long as it takes).
    public func send(topic: String, key: [UInt8]?, value: [UInt8], headers: [(String, [UInt8])] = [],
                     waitingAtMost limit: Duration? = nil) throws(KafkaError) {
        let deadline = limit.map { ContinuousClock.now + $0 }
        while true {
            let code = enqueue(topic: topic, key: key, value: value, headers: headers)
            if code == RD_KAFKA_RESP_ERR_NO_ERROR { return }
            guard code == RD_KAFKA_RESP_ERR__QUEUE_FULL, deadline.map({ ContinuousClock.now < $0 }) ?? true else {
                throw KafkaError(code, context: "produce to \(topic)")
            }
            rd_kafka_poll(client.handle, 50)
        }
    }

    /// Publishes one record and returns once the cluster has acknowledged it (as `acks` asks),
    /// or throws why it did not: delivery failed, or `message.timeout.ms` passed. For callers
    /// that may only answer their own client after the record is safe (the gateway).
    public func publish(topic: String, key: [UInt8]?, value: [UInt8], headers: [(String, [UInt8])] = []) throws(KafkaError) {
        let waiter = DeliveryWaiter()
        let opaque = Unmanaged.passRetained(waiter).toOpaque()
        var code = enqueue(topic: topic, key: key, value: value, headers: headers, opaque: opaque)
        while code == RD_KAFKA_RESP_ERR__QUEUE_FULL {
            rd_kafka_poll(client.handle, 50)
            code = enqueue(topic: topic, key: key, value: value, headers: headers, opaque: opaque)
        }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            Unmanaged<DeliveryWaiter>.fromOpaque(opaque).release()
            throw KafkaError(code, context: "produce to \(topic)")
        }
        // librdkafka reports every record once, delivered or failed, within message.timeout.ms.
        while !waiter.isResolved { rd_kafka_poll(client.handle, 20) }
        if let failure = waiter.failure { throw KafkaError(failure, context: "delivery to \(topic)") }
    }

    /// The first delivery that failed since the last call (served by `poll` or `flush`), if any.
    public func takeDeliveryFailure() -> KafkaError? {
        deliveries.takeFailure()
    }

    private func enqueue(topic: String, key: [UInt8]?, value: [UInt8], headers: [(String, [UInt8])],
                         opaque: UnsafeMutableRawPointer? = nil) -> rd_kafka_resp_err_t {
        let list = rd_kafka_headers_new(headers.count)
        for (name, bytes) in headers {
            bytes.withUnsafeBytes { _ = rd_kafka_header_add(list, name, -1, $0.baseAddress, $0.count) }
        }
        let error: OpaquePointer? = topic.withCString { topicName in
            value.withUnsafeBytes { valueBytes in
                (key ?? []).withUnsafeBytes { keyBytes in
                    var fields = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 6)
                    fields[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    fields[0].u.cstr = topicName
                    fields[1].vtype = RD_KAFKA_VTYPE_VALUE
                    fields[1].u.mem = .init(ptr: UnsafeMutableRawPointer(mutating: valueBytes.baseAddress), size: valueBytes.count)
                    fields[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    fields[2].u.i = RD_KAFKA_MSG_F_COPY
                    fields[3].vtype = RD_KAFKA_VTYPE_HEADERS
                    fields[3].u.headers = list
                    var count = 4
                    if key != nil {
                        fields[count].vtype = RD_KAFKA_VTYPE_KEY
                        fields[count].u.mem = .init(ptr: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress), size: keyBytes.count)
                        count += 1
                    }
                    if let opaque {
                        fields[count].vtype = RD_KAFKA_VTYPE_OPAQUE
                        fields[count].u.ptr = opaque
                        count += 1
                    }
                    return rd_kafka_produceva(client.handle, fields, count)
                }
            }
        }
        guard let error else { return RD_KAFKA_RESP_ERR_NO_ERROR }  // librdkafka now owns the headers
        rd_kafka_headers_destroy(list)
        let code = rd_kafka_error_code(error)
        rd_kafka_error_destroy(error)
        return code
    }

    /// Serves delivery reports without blocking.
    public func poll() {
        rd_kafka_poll(client.handle, 0)
    }

    /// Waits until every enqueued record is delivered; throws if any failed or time ran out.
    public func flush(timeout: Duration = .seconds(30)) throws(KafkaError) {
        let code = rd_kafka_flush(client.handle, timeout.kafkaMilliseconds)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code, context: "flush") }
        if let failure = deliveries.takeFailure() { throw failure }
    }
}

/// Keeps the first failed delivery report; the callback runs on whichever thread polls the producer.
final class DeliveryReports: @unchecked Sendable {
    private let lock = NSLock()
    private var failure: KafkaError?

    func record(_ code: rd_kafka_resp_err_t) {
        lock.lock()
        defer { lock.unlock() }
        if code != RD_KAFKA_RESP_ERR_NO_ERROR && failure == nil { failure = KafkaError(code, context: "delivery") }
    }

    func takeFailure() -> KafkaError? {
        lock.lock()
        defer { lock.unlock() }
        defer { failure = nil }
        return failure
    }
}

/// The outcome of one record that a caller waits for; resolved by the delivery callback.
final class DeliveryWaiter: @unchecked Sendable {
    private let lock = NSLock()
    private var resolved = false
    private var code = RD_KAFKA_RESP_ERR_NO_ERROR

    func resolve(_ code: rd_kafka_resp_err_t) {
        lock.lock()
        defer { lock.unlock() }
        self.code = code
        resolved = true
    }

    var isResolved: Bool {
        lock.lock()
        defer { lock.unlock() }
        return resolved
    }

    var failure: rd_kafka_resp_err_t? {
        lock.lock()
        defer { lock.unlock() }
        return code == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : code
    }
}
