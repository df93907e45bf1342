import CKafka
import Synchronization

/// Where librdkafka's own log lines go. By default librdkafka prints them to standard error in a
/// format of its own; once a sink is set, every client made afterwards hands them to it instead
/// (from librdkafka's threads), so that the daemon's log has one format and one level filter.
/// The sink is a closure rather than a logger so that this module needs no logging library.
public enum KafkaLog {
    /// A line of librdkafka's log: its syslog level (0 emergency … 7 debug), facility and text.
    public typealias Sink = @Sendable (_ level: Int32, _ facility: String, _ message: String) -> Void

    private static let sink = Mutex<Sink?>(nil)

    /// Routes the log of every client created from now on to `sink` (nil: librdkafka's own printing).
    public static func route(to newSink: Sink?) {
        sink.withLock { $0 = newSink }
    }

    /// Installs the callback on a new conf when a sink is set.
    static func install(on conf: OpaquePointer) {
        guard sink.withLock({ $0 != nil }) else { return }
        rd_kafka_conf_set_log_cb(conf) { _, level, facility, text in
            let line = (facility.map { String(cString: $0) } ?? "", text.map { String(cString: $0) } ?? "")
            KafkaLog.sink.withLock { $0 }?(level, line.0, line.1)
        }
    }
}
