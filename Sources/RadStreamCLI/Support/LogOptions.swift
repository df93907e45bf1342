import ArgumentParser
import Foundation
import Logging
import Pipeline

/// `--log-level` and `--log-format` of the long-running commands, or `RADSTREAM_LOG_LEVEL` and
/// `RADSTREAM_LOG_FORMAT` (the option wins): set once, before the first logger is made.
struct LogOptions: ParsableArguments {
    @Option(help: "trace, debug, info, notice, warning, error or critical (RADSTREAM_LOG_LEVEL; default: the command's own).")
    var logLevel: String?
    @Option(help: "text or json: one JSON object a line (RADSTREAM_LOG_FORMAT; default: text).")
    var logFormat: String?

    func validate() throws {
        _ = try resolved(defaultLevel: .info)
    }

    /// The level and format asked for, by option, then by variable, then the default.
    func resolved(defaultLevel: Logger.Level, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> (level: Logger.Level, format: LogFormat) {
        let levelText = logLevel ?? environment["RADSTREAM_LOG_LEVEL"]
        let formatText = logFormat ?? environment["RADSTREAM_LOG_FORMAT"]
        guard let level = levelText.map({ Logger.Level(rawValue: $0.lowercased()) }) ?? defaultLevel else {
            throw ValidationError("log level \(levelText ?? "") is not one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let format = formatText.map({ LogFormat(rawValue: $0.lowercased()) }) ?? .text else {
            throw ValidationError("log format \(formatText ?? "") is not text or json")
        }
        return (level, format)
    }

    /// Bootstraps the process's logging and returns the command's logger.
    func logger(label: String, defaultLevel: Logger.Level) throws -> Logger {
        let (level, format) = try resolved(defaultLevel: defaultLevel)
        RadStreamLogging.bootstrap(level: level, format: format)
        return Logger(label: label)
    }
}
