import BuildInfo
import ChildProcesses
import Foundation
import TestSupport
import Testing
@testable import Pipeline

/// What an operator runs and reads: the daemon's log as JSON lines, its level, and librdkafka's
/// own log in the same stream.
@Suite("Operating the daemon", .serialized)
struct OperationsTests {
    /// `serve` with RADSTREAM_LOG_FORMAT=json over a short stream with two bad events: every
    /// line of its output is one JSON object with time, level, logger and message; the dead
    /// letters carry their record as metadata; librdkafka's log arrives as logger "librdkafka".
    @Test func theDaemonsLogIsOneJSONObjectALine() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("json_logs")
        var configuration = try environment.configuration(name: "json-logs", conninfo: conninfo)
        configuration.models.summarizeReports = false
        configuration.models.captionImages = false
        let published = try environment.publishInBackground(count: 40, rate: 200, configuration: configuration, badEvery: 20)
        // librdkafka's consumer-group debugging, to have some of its lines at debug level.
        let daemon = try DaemonProcess(configuration: configuration, directory: environment.root, environment: [
            "RADSTREAM_LOG_FORMAT": "json", "RADSTREAM_LOG_LEVEL": "debug", "RADSTREAM_KAFKA_DEBUG": "cgrp",
        ])
        published.wait()
        let done = try eventually(timeout: .seconds(60)) { try Counts.read(conninfo).total == 40 }
        // Which binary is running, for dashboards to join on.
        let metrics = daemon.httpPort.flatMap { httpGet("http://127.0.0.1:\($0)/metrics")?.body } ?? ""
        #expect(metrics.contains(#"radstream_build_info{version="\#(Release.version)",commit="\#(BuildInfo.commit)"} 1"#), "\(metrics.prefix(500))")
        #expect(daemon.stop(with: SIGTERM) == 0)
        #expect(done, "\(daemon.output.suffix(2000))")

        let lines = daemon.output.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(!lines.isEmpty && objects.count == lines.count, "not JSON: \(lines.filter { !$0.hasPrefix("{") }.prefix(3))")
        #expect(objects.allSatisfy { ["time", "level", "logger", "message"].allSatisfy($0.keys.contains) })
        let iso8601 = ISO8601DateFormatter()
        iso8601.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(objects.allSatisfy { ($0["time"] as? String).map { iso8601.date(from: $0) != nil } ?? false })
        let deadLetters = objects.filter { ($0["message"] as? String)?.hasPrefix("dead letter") == true }
        #expect(deadLetters.count == 2)
        for line in deadLetters {
            let metadata = line["metadata"] as? [String: Any] ?? [:]
            #expect(["topic", "partition", "offset", "code"].allSatisfy(metadata.keys.contains), "\(line)")
            #expect(line["level"] as? String == "notice")
        }
        let kafka = objects.filter { $0["logger"] as? String == "librdkafka" }
        #expect(!kafka.isEmpty && kafka.allSatisfy { ($0["metadata"] as? [String: Any])?["facility"] != nil })
        let consuming = objects.first { $0["message"] as? String == "consuming" }
        #expect((consuming?["metadata"] as? [String: Any])?["group"] as? String == configuration.kafka.groupID)
    }

    /// `--version` on the tool and on any of its commands: the release and the commit built,
    /// which is the checkout's HEAD.
    @Test func everyCommandTellsItsVersion() throws {
        let head = try ChildProcess.run("/usr/bin/git", ["-C", TestData.packageRoot.path, "rev-parse", "HEAD"])
        let checkedOut: String = head.output.trimmingCharacters(in: CharacterSet.whitespacesAndNewlines)
        #expect(BuildInfo.commit == checkedOut)
        for arguments in [["--version"], ["serve", "--version"], ["train", "classifier", "--version"]] {
            let run = try ChildProcess.run(Paths.binary.path, arguments)
            #expect(run.status == 0 && run.output == Release.description + "\n", "\(arguments): \(run.output)")
        }
        #expect(Release.description.hasPrefix("\(Release.version) (commit \(BuildInfo.commit)"))
    }

    /// The level filters: at warning, the daemon's info lines (and librdkafka's debug) are not written.
    @Test func theLogLevelFiltersAndAWrongOneIsRefused() throws {
        let refused = try ChildProcess.run(Paths.binary.path, ["serve", "--log-level", "chatty"])
        #expect(refused.status == 64 && refused.output.contains("log level chatty is not one of"), "\(refused.output)")
        let wrongFormat = try ChildProcess.run(Paths.binary.path, ["serve", "--log-format", "xml"])
        #expect(wrongFormat.status == 64 && wrongFormat.output.contains("not text or json"), "\(wrongFormat.output)")

        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("quiet_logs")
        var configuration = try environment.configuration(name: "quiet-logs", conninfo: conninfo)
        configuration.models.summarizeReports = false
        configuration.models.captionImages = false
        let published = try environment.publishInBackground(count: 10, rate: 200, configuration: configuration)
        let daemon = try DaemonProcess(configuration: configuration, directory: environment.root, environment: [
            "RADSTREAM_LOG_FORMAT": "json", "RADSTREAM_LOG_LEVEL": "warning", "RADSTREAM_KAFKA_DEBUG": "cgrp",
        ])
        published.wait()
        let done = try eventually(timeout: .seconds(60)) { try Counts.read(conninfo).total == 10 }
        #expect(daemon.stop(with: SIGTERM) == 0)
        #expect(done)
        let levels = daemon.output.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["level"] as? String
        }
        #expect(levels.allSatisfy { ["warning", "error", "critical"].contains($0) }, "\(levels)")
    }
}
