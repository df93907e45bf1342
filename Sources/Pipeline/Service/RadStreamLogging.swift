import Foundation
import Kafka
import Logging

/// How RadStream writes its log: `text` for a person at a terminal (swift-log's standard format),
/// `json` for a log shipper — one object per line on standard error with `time` (UTC, ISO 8601
/// with milliseconds), `level`, `logger`, `message`, the call's `source`, and its `metadata`
/// (topic, partition, offset, event_id, study_id, code, …) as an object of its own.
public enum LogFormat: String, CaseIterable, Sendable {
    case text, json
}

public enum RadStreamLogging {
    /// Sets the process's log handler once, before any logger is made; librdkafka's own log is
    /// routed into it (logger `librdkafka`, its facility as metadata). `level` filters both.
    public static func bootstrap(level: Logger.Level, format: LogFormat) {
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = switch format {
            case .text: StreamLogHandler.standardError(label: label)
            case .json: JSONLogHandler(label: label)
            }
            handler.logLevel = level
            return handler
        }
        let kafka = Logger(label: "librdkafka")
        KafkaLog.route { syslogLevel, facility, message in
            kafka.log(level: Self.level(syslog: syslogLevel), "\(message)", metadata: ["facility": "\(facility)"])
        }
    }

    /// librdkafka's syslog levels in swift-log's terms.
    static func level(syslog: Int32) -> Logger.Level {
        switch syslog {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
    }
}

/// One JSON object per log line on standard error.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (Data) -> Void

    /// `write` receives each line, newline included (standard error unless a test says otherwise).
    public init(label: String, write: @escaping @Sendable (Data) -> Void = { FileHandle.standardError.write($0) }) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        var line: [String: Any] = [
            "time": Self.timestamp(Date()), "level": event.level.rawValue, "logger": label,
            "message": "\(event.message)", "source": "\(event.file.split(separator: "/").last ?? ""):\(event.line)",
        ]
        if !merged.isEmpty { line["metadata"] = merged.mapValues(Self.json) }
        guard var data = try? JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        data.append(0x0A)
        write(data)
    }

    static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().timeSeparator(.colon).time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
