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

    /// `ops/install.sh` lays out the documented tree (under a temporary prefix); the unit passes
    /// `systemd-analyze verify`; the installed binary finds its schemas and, through the installed
    /// configuration alone, its models, and runs a short stream against the real servers.
    @Test func theInstalledTreeRunsAsTheUnitWouldRunIt() throws {
        let environment = try TestEnvironment.get()
        let base = environment.root.appending(path: "installed-\(UUID().uuidString)")
        let (prefix, sysconf, state) = (base.appending(path: "usr/local").path, base.appending(path: "etc").path, base.appending(path: "var/lib").path)
        let install = try ChildProcess.run(TestData.packageRoot.appending(path: "ops/install.sh").path, [
            "--no-build", "--build-dir", Paths.binary.deletingLastPathComponent().path, "--no-user",
            "--prefix", prefix, "--sysconfdir", sysconf, "--statedir", state,
        ])
        #expect(install.status == 0, "\(install.output)")
        let lib = "\(prefix)/lib/radstream"
        for path in ["\(lib)/bin/radstream", "\(lib)/bin/RadStream_Schemas.resources", "\(lib)/models/pneumonia/model.safetensors",
                     "\(lib)/models/summarizer/reranker.json", "\(lib)/doc/operations.md", "\(prefix)/bin/radstream",
                     "\(sysconf)/radstream/radstream.json", "\(sysconf)/radstream/radstream.env", "\(state)/radstream/images",
                     "\(prefix)/lib/systemd/system/radstream.service"] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
        }
        let secrets = try FileManager.default.attributesOfItem(atPath: "\(sysconf)/radstream/radstream.env")[.posixPermissions] as? Int
        #expect(secrets == 0o640, "the secrets file is not world-readable")

        // The unit as systemd reads it: no warning, every path it names exists.
        let unit = "\(prefix)/lib/systemd/system/radstream.service"
        let verify = try ChildProcess.run("/usr/bin/systemd-analyze", ["verify", unit])
        #expect(verify.status == 0 && verify.output.isEmpty, "\(verify.output)")
        let unitText = try String(contentsOfFile: unit, encoding: .utf8)
        for setting in ["KillSignal=SIGTERM", "Restart=on-failure", "User=radstream", "ProtectSystem=strict", "TimeoutStopSec=90",
                        "ExecStart=\(lib)/bin/radstream serve --config \(sysconf)/radstream/radstream.json"] {
            #expect(unitText.contains(setting), "\(setting)")
        }
        #expect(!unitText.contains("@"), "every placeholder filled")
        // Longer than the daemon's own shutdown deadline: systemd never kills a committing batch.
        let configuration = try RadStreamConfiguration.load(file: URL(filePath: "\(sysconf)/radstream/radstream.json"), environment: [:])
        #expect(configuration.batch.shutdownSeconds < 90 && configuration.models.directory == "\(lib)/models")

        // The installed binary, as ExecStart runs it, with the servers given as the environment file would.
        let conninfo = try environment.makeDatabase("installed")
        let binary = "\(lib)/bin/radstream"
        let migrate = try ChildProcess.run(binary, ["migrate", "--config", "\(sysconf)/radstream/radstream.json", "--postgres", conninfo])
        #expect(migrate.status == 0, "the schemas are found beside the installed binary: \(migrate.output)")
        var topics = try environment.configuration(name: "installed", conninfo: conninfo)
        topics.models.summarizeReports = false
        let published = try environment.publishInBackground(count: 20, rate: 200, configuration: topics)
        let log = base.appending(path: "serve.log")
        let pid = try ChildProcess.spawn(binary, ["serve", "--config", "\(sysconf)/radstream/radstream.json", "--log-format", "json"],
                                         outputPath: log.path, environment: [
            "RADSTREAM_POSTGRES": conninfo, "RADSTREAM_KAFKA_BOOTSTRAP": environment.broker.bootstrapServers,
            "RADSTREAM_KAFKA_GROUP": topics.kafka.groupID, "RADSTREAM_IMAGE_TOPIC": topics.kafka.imageTopic,
            "RADSTREAM_REPORT_TOPIC": topics.kafka.reportTopic, "RADSTREAM_HTTP_PORT": "0",
            "RADSTREAM_SUMMARIZE_REPORTS": "false", "RADSTREAM_CAPTION_IMAGES": "false",
        ])
        published.wait()
        let done = try eventually(timeout: .seconds(60)) { try Counts.read(conninfo).total == 20 }
        kill(pid, SIGTERM)
        #expect(ChildProcess.wait(pid) == 0)
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(done, "\(output.suffix(2000))")
        #expect(try Counts.read(conninfo) == TestEnvironment.expectedCounts(count: 20))
        #expect(output.contains("\(lib)/models"), "the models came from the installed configuration: \(output.prefix(1500))")
    }

    /// A configuration or schema no restart mends exits 78 (EX_CONFIG, which the unit does not
    /// restart on) with the reason; a wrong option exits 64.
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
        #expect(variable.status == 78 && variable.output.contains("RADSTREAM_BATCH_MAX_EVENTS=x is not a whole number"), "\(variable.output)")

        // A database without RadStream's schema: the daemon says so and does not start consuming.
        let conninfo = try environment.makeDatabase("no_schema", upTo: 0)
        var configuration = try environment.configuration(name: "no-schema", conninfo: conninfo)
        configuration.models.summarizeReports = false
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

    /// The container file and the Kubernetes manifests cannot be built or applied here: they are
    /// held to the tree instead. Every file the container copies exists; its entrypoint and
    /// configuration are where ops/install.sh puts them; the port it exposes, the manifests'
    /// container port and probes are the daemon's; the ConfigMap is a configuration the daemon
    /// accepts; the secret reaches it through a variable it reads; the grace period outlasts the
    /// daemon's shutdown deadline.
    @Test func theContainerAndTheManifestsNameOnlyWhatExists() throws {
        let root = TestData.packageRoot
        let containerfile = try String(contentsOf: root.appending(path: "ops/container/Containerfile"), encoding: .utf8)
        let copies = containerfile.split(separator: "\n").filter { $0.hasPrefix("COPY ") && !$0.contains("--from") }
        #expect(copies.count >= 5)
        for line in copies {
            let source = String(line.split(separator: " ")[1])
            #expect(FileManager.default.fileExists(atPath: root.appending(path: source).path), "\(line)")
        }
        let install = try String(contentsOf: root.appending(path: "ops/install.sh"), encoding: .utf8)
        #expect(install.contains("prefix=/usr/local sysconfdir=/etc") && install.contains(#"lib="$prefix/lib/radstream""#))
        #expect(containerfile.contains(#"ENTRYPOINT ["/usr/local/lib/radstream/bin/radstream"]"#))
        #expect(containerfile.contains(#"CMD ["serve", "--config", "/etc/radstream/radstream.json"]"#))
        let port = RadStreamConfiguration.standard.http.port
        #expect(containerfile.contains("EXPOSE \(port)\n") && containerfile.contains("RADSTREAM_HTTP_HOST=0.0.0.0"))

        let manifests = try String(contentsOf: root.appending(path: "ops/kubernetes/radstream.yaml"), encoding: .utf8)
        // The ConfigMap's file, as the daemon would read it from /etc/radstream.
        let lines = manifests.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.contains("radstream.json: |") })
        let json = lines[(start + 1)...].prefix { $0.hasPrefix("    ") }.map { $0.dropFirst(4) }.joined(separator: "\n")
        let configuration = try RadStreamConfiguration.standard.merging(json: Data(json.utf8), source: "the ConfigMap")
        #expect(configuration.http.host == "0.0.0.0" && configuration.models.directory == "/usr/local/lib/radstream/models")
        #expect(manifests.contains("containerPort: \(configuration.http.port)"))
        let health = try String(contentsOf: root.appending(path: "Sources/Pipeline/Service/HealthServer.swift"), encoding: .utf8)
        for path in ["/healthz", "/readyz"] {
            #expect(manifests.contains("path: \(path), port: http") && health.contains("\"\(path)\""), "\(path)")
        }
        let grace = try #require(manifests.firstMatch(of: /terminationGracePeriodSeconds: (\d+)/).flatMap { Int($0.1) })
        #expect(grace > configuration.batch.shutdownSeconds)
        // The secret: a key of the Secret, mounted as a file that RADSTREAM_POSTGRES_FILE names.
        #expect(manifests.contains("postgres-conninfo:") && manifests.contains("mountPath: /run/secrets/radstream"))
        #expect(manifests.contains("{name: RADSTREAM_POSTGRES_FILE, value: /run/secrets/radstream/postgres-conninfo}"))
        #expect(RadStreamConfiguration.environmentVariables.contains { $0.name == "RADSTREAM_POSTGRES" })
        #expect(RadStreamConfiguration.environmentVariables.contains { $0.name == "RADSTREAM_<NAME>_FILE" })
    }

    /// `--json` on the measuring commands: one document with the figures the text prints.
    @Test func theMeasuringCommandsSpeakJSON() throws {
        let labeler = try ChildProcess.run(Paths.binary.path, [
            "evaluate-labeler", "--reports", Paths.data.appending(path: "openi/reports").path, "--folds", "5", "--json"])
        let folds = try #require((try JSONSerialization.jsonObject(with: Data(labeler.output.utf8)) as? [String: Any])?["folds"] as? [[String: Any]])
        #expect(folds.count == 5 && folds.allSatisfy { ($0["findingsMicroF1AsChosen"] as? Double ?? 0) > 0.85 })
        #expect(folds.allSatisfy { ($0["observations"] as? [String: Any])?.count == 14 && ($0["uncertainReadAsPositive"] as? [String])?.isEmpty == false })

        let evaluate = try ChildProcess.run(Paths.binary.path, [
            "evaluate", "--data", Paths.data.appending(path: "pneumoniamnist/val").path,
            "--model", TestData.packageRoot.appending(path: "models/pneumonia").path, "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(evaluate.output.utf8)) as? [String: Any], "\(evaluate.output)")
        let models = try #require(document["models"] as? [[String: Any]])
        #expect(document["images"] as? Int == 524 && models.count == 1 && document["comparison"] == nil)
        let auc = try #require((models[0]["evaluation"] as? [String: Any])?["auc"] as? Double)
        #expect(auc > 0.99 && (models[0]["evaluation"] as? [String: Any])?["aucInterval"] is [Double])

        // A benchmark's tables, figures as numbers (its progress on standard error).
        let engine = try ChildProcess.run(Paths.binary.path, ["benchmark", "engine", "--network-only", "--seconds", "0.05", "--json"])
        let tables = try #require((try Self.jsonDocument(in: engine.output))?["tables"] as? [[String: Any]], "\(engine.output)")
        let rows = try #require(tables.first?["rows"] as? [[String: Any]])
        #expect(rows.count == 5 && rows.allSatisfy { ($0["images/s"] as? Double ?? 0) > 0 })
    }

    /// The JSON document a command printed, found among the lines of standard error it was captured with.
    static func jsonDocument(in output: String) throws -> [String: Any]? {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(of: "{"), let end = lines.lastIndex(of: "}"), start < end else { return nil }
        return try JSONSerialization.jsonObject(with: Data(lines[start...end].joined(separator: "\n").utf8)) as? [String: Any]
    }

    /// The demo's summary for a script: the counts and where everything runs, and no password.
    @Test func theDemoSummarizesAsJSON() throws {
        let environment = try TestEnvironment.get()
        let workDir = environment.root.appending(path: "demo-json-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: workDir) }
        let run = try ChildProcess.run(Paths.binary.path, ["demo", "--data", Paths.data.path, "--work-dir", workDir.path,
                                                           "--limit", "4", "--exit-when-done", "--json"],
                                       environment: ["RADSTREAM_SUMMARIZE_REPORTS": "false", "RADSTREAM_CAPTION_IMAGES": "false"])
        #expect(run.status == 0, "\(run.output.suffix(2000))")
        let summary = try #require(try Self.jsonDocument(in: run.output), "\(run.output.suffix(2000))")
        let totals = try #require(summary["totals"] as? [String: Any])
        #expect(totals["sent"] as? Int == 8 && totals["reportRows"] as? Int == 4 && totals["imageRows"] as? Int == 4, "\(totals)")
        #expect((summary["dashboard"] as? String)?.hasPrefix("http://127.0.0.1:") == true && summary["dashboardPasswordFile"] is String)
        #expect((summary["eventsPerSecond"] as? Double ?? 0) > 0 && summary["password"] == nil)
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
