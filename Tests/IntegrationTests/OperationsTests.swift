import BuildInfo
import ChildProcesses
import Foundation
import TestSupport
@testable import TensorEngine
import Testing
@testable import Pipeline

/// What an operator runs and reads: the daemon's log as JSON lines and its level (librdkafka's
/// own log in the same stream), its metrics, its version, its exit codes and its configuration.
@Suite("Operating the daemon", .serialized)
struct OperationsTests {
    /// `serve` with RADSTREAM_LOG_FORMAT=json over a short stream with two bad events: every
    /// line of its output is one JSON object with time, level, logger and message; the dead
    /// letters carry their record as metadata; librdkafka's log arrives as logger "librdkafka".
    @Test func theDaemonsLogIsOneJSONObjectALine() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("json_logs")
        let configuration = try environment.deliveryConfiguration(name: "json-logs", conninfo: conninfo)
        let published = try environment.publishInBackground(count: 40, rate: 200, configuration: configuration, badEvery: 20)
        // librdkafka's consumer-group debugging, to have some of its lines at debug level.
        let daemon = try DaemonProcess(configuration: configuration, directory: environment.root, environment: [
            "RADSTREAM_LOG_FORMAT": "json", "RADSTREAM_LOG_LEVEL": "debug", "RADSTREAM_KAFKA_DEBUG": "cgrp",
            "RADSTREAM_KAFKA_STATISTICS_INTERVAL_MS": "200",
        ])
        published.wait()
        let done = try eventually(timeout: .seconds(60)) { try Counts.read(conninfo).total == 40 }
        // librdkafka's statistics, a few windows in.
        #expect(try eventually(timeout: .seconds(10)) {
            daemon.httpPort.flatMap { httpGet("http://127.0.0.1:\($0)/metrics")?.body }?.contains("radstream_kafka_broker_rtt_seconds{broker=") == true
        })
        // Which binary is running, for dashboards to join on.
        let metrics = daemon.httpPort.flatMap { httpGet("http://127.0.0.1:\($0)/metrics")?.body } ?? ""
        #expect(metrics.contains(#"radstream_build_info{version="\#(Release.version)",commit="\#(BuildInfo.commit)"} 1"#), "\(metrics.prefix(500))")
        // Where a batch's time goes, stage by stage; the lag of each partition; the versions serving.
        for stage in ["events", "pneumonia", "covid", "commit"] {
            #expect(metrics.contains(#"radstream_stage_duration_seconds_count{stage="\#(stage)"}"#), "\(stage)")
        }
        #expect(try eventually(timeout: .seconds(10)) {
            daemon.httpPort.flatMap { httpGet("http://127.0.0.1:\($0)/metrics")?.body }?
                .contains(#"radstream_partition_lag{topic="\#(configuration.kafka.imageTopic)",partition="#) == true
        })
        let manifest = try Data(contentsOf: TestData.packageRoot.appending(path: "models/pneumonia/manifest.json"))
        let pneumonia = try #require((try JSONSerialization.jsonObject(with: manifest) as? [String: Any])?["version"] as? String)
        #expect(metrics.contains(#"radstream_model_info{model="pneumonia",version="\#(pneumonia)"} 1"#), "\(metrics)")
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

    /// The command line multiplies with kernels the processor runs: where OpenBLAS fell back to
    /// SSE kernels on an AVX2 processor it does not know, it runs again with better ones; a
    /// choice the user made in OPENBLAS_CORETYPE is kept.
    @Test func theCommandLineMultipliesWithTheKernelsTheProcessorRuns() throws {
        func kernels(_ environment: [String: String] = [:]) throws -> String {
            let run = try ChildProcess.run(Paths.binary.path, ["benchmark", "engine", "--network-only", "--seconds", "0"],
                                           environment: environment)
            #expect(run.status == 0, "\(run.output)")
            let header = try #require(run.output.split(separator: "\n").first { $0.hasPrefix("engine benchmark:") })
            let name = try #require(header.firstMatch(of: /OpenBLAS's (\S+) kernels/)?.1, "\(header)")
            return String(name)
        }
        #expect(try kernels(["OPENBLAS_CORETYPE": "Prescott"]) == "Prescott")
        if ProcessorFeatures.avx2AndFMA && ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil {
            #expect(OpenBLASKernels.coresWithAVX2.contains(try kernels().lowercased()))
        }
    }

    @Test func whatNoRestartMendsExitsSeventyEight() throws {
        let environment = try TestEnvironment.get()
        let directory = environment.root.appending(path: "exit-codes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let misspelt = directory.appending(path: "misspelt.json")
        try Data(#"{"batch": {"maxEvent": 3}}"#.utf8).write(to: misspelt)
        let cases: [(arguments: [String], reason: String)] = [
            (["serve", "--config", directory.appending(path: "missing.json").path], "missing.json"),
            (["serve", "--config", misspelt.path], "unknown key batch.maxEvent"),
        ]
        for (arguments, reason) in cases {
            let run = try ChildProcess.run(Paths.binary.path, arguments)
            #expect(run.status == 78 && run.output.contains(reason), "\(arguments): \(run.status) \(run.output)")
        }
        let variable = try ChildProcess.run(Paths.binary.path, ["serve"], environment: ["RADSTREAM_BATCH_MAX_EVENTS": "x"])
        #expect(variable.status == 78 && variable.output.contains("RADSTREAM_BATCH_MAX_EVENTS=x is not a number"), "\(variable.output)")

        // A database without RadStream's schema: the daemon says so and does not start consuming.
        let conninfo = try environment.makeDatabase("no_schema", upTo: 0)
        let configuration = try environment.deliveryConfiguration(name: "no-schema", conninfo: conninfo)
        let daemon = try DaemonProcess(configuration: configuration, directory: directory)
        #expect(ChildProcess.wait(daemon.pid) == 78)
        #expect(daemon.output.contains("run `radstream migrate`"), "\(daemon.output.suffix(1500))")

        let usage = try ChildProcess.run(Paths.binary.path, ["serve", "--no-such-option"])
        #expect(usage.status == 64)
    }

    /// `serve --print-config`: the file, then the variables, as the daemon would run with them, and
    /// no secret in it.
    @Test func printConfigShowsWhatIsInForceAndNoSecret() throws {
        let secret = FileManager.default.temporaryDirectory.appending(path: "sasl-\(UUID().uuidString)")
        try Data("hunter8\n".utf8).write(to: secret)
        defer { try? FileManager.default.removeItem(at: secret) }
        let run = try ChildProcess.run(Paths.binary.path, ["serve", "--print-config"], environment: [
            "RADSTREAM_POSTGRES": "host=db password=hunter9 dbname=radstream", "RADSTREAM_KAFKA_SASL_PASSWORD_FILE": secret.path,
            "RADSTREAM_BATCH_MAX_EVENTS": "77",
        ])
        #expect(run.status == 0 && !run.output.contains("hunter8") && !run.output.contains("hunter9"), "\(run.output)")
        let printed = try JSONDecoder().decode(RadStreamConfiguration.self, from: Data(run.output.utf8))
        #expect(printed.batch.maxEvents == 77 && printed.postgres.conninfo == "host=db password=(hidden) dbname=radstream")
        #expect(printed.kafka.properties["sasl.password"] == "(hidden)")
    }

    /// The level filters: at warning, the daemon's info lines (and librdkafka's debug) are not written.
    @Test func theLogLevelFiltersAndAWrongOneIsRefused() throws {
        let refused = try ChildProcess.run(Paths.binary.path, ["serve", "--log-level", "chatty"])
        #expect(refused.status == 64 && refused.output.contains("log level chatty is not one of"), "\(refused.output)")
        let wrongFormat = try ChildProcess.run(Paths.binary.path, ["serve", "--log-format", "xml"])
        #expect(wrongFormat.status == 64 && wrongFormat.output.contains("not text or json"), "\(wrongFormat.output)")

        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("quiet_logs")
        let configuration = try environment.deliveryConfiguration(name: "quiet-logs", conninfo: conninfo)
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
