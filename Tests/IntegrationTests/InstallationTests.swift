import ChildProcesses
import Foundation
import TestSupport
import Testing
@testable import Pipeline

/// Installing RadStream: the tree ops/install.sh lays out and the service it runs, and the
/// container and Kubernetes files, held to the tree since they cannot be built here.
@Suite("Installing the daemon", .serialized)
struct InstallationTests {
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
                     "\(prefix)/lib/systemd/system/radstream.service", "\(prefix)/lib/systemd/system/radstream-gateway.service",
                     "\(lib)/doc/gateway.md"] {
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
        // The gateway's unit, the same way; the installed configuration gives it an image root the daemon reads.
        let gatewayUnit = "\(prefix)/lib/systemd/system/radstream-gateway.service"
        let verifyGateway = try ChildProcess.run("/usr/bin/systemd-analyze", ["verify", gatewayUnit])
        #expect(verifyGateway.status == 0 && verifyGateway.output.isEmpty, "\(verifyGateway.output)")
        let gatewayText = try String(contentsOfFile: gatewayUnit, encoding: .utf8)
        #expect(gatewayText.contains("ExecStart=\(lib)/bin/radstream gateway --config \(sysconf)/radstream/radstream.json") && !gatewayText.contains("@"))
        // Longer than the daemon's own shutdown deadline: systemd never kills a committing batch.
        let configuration = try RadStreamConfiguration.load(file: URL(filePath: "\(sysconf)/radstream/radstream.json"), environment: [:])
        #expect(configuration.batch.shutdownSeconds < 90 && configuration.models.directory == "\(lib)/models")
        #expect(configuration.gateway.resolvedImageRoot(allowedRoots: configuration.images.allowedRoots) == "\(state)/radstream/images")
        #expect(configuration.gateway.acknowledgementSeconds < 60, "the gateway's stop timeout outlasts a wait for Kafka")

        // The installed binary, as ExecStart runs it, with the servers given as the environment file would.
        let conninfo = try environment.makeDatabase("installed")
        let binary = "\(lib)/bin/radstream"
        let migrate = try ChildProcess.run(binary, ["migrate", "--config", "\(sysconf)/radstream/radstream.json", "--postgres", conninfo])
        #expect(migrate.status == 0, "the schemas are found beside the installed binary: \(migrate.output)")
        let topics = try environment.deliveryConfiguration(name: "installed", conninfo: conninfo)
        let published = try environment.publishInBackground(count: 20, rate: 200, configuration: topics)
        let log = base.appending(path: "serve.log")
        let pid = try ChildProcess.spawn(binary, ["serve", "--config", "\(sysconf)/radstream/radstream.json", "--log-format", "json"],
                                         outputPath: log.path, environment: [
            "RADSTREAM_POSTGRES": conninfo, "RADSTREAM_KAFKA_BOOTSTRAP": environment.broker.bootstrapServers,
            "RADSTREAM_KAFKA_GROUP": topics.kafka.groupID, "RADSTREAM_KAFKA_IMAGE_TOPIC": topics.kafka.imageTopic,
            "RADSTREAM_KAFKA_REPORT_TOPIC": topics.kafka.reportTopic, "RADSTREAM_HTTP_PORT": "0",
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
        // The gateway's pod listens where the configuration says, and its Service leads there;
        // it writes the image root the daemon's pods read.
        let gateway = configuration.gateway
        #expect(manifests.contains("- {name: dicom, containerPort: \(gateway.dicom.port)}"))
        #expect(manifests.contains("- {name: hl7, containerPort: \(gateway.hl7.port)}"))
        #expect(manifests.contains("targetPort: dicom}") && manifests.contains("targetPort: hl7}"))
        #expect(manifests.contains(#"args: ["gateway", "--config", "/etc/radstream/radstream.json"]"#))
        #expect(gateway.resolvedImageRoot(allowedRoots: configuration.images.allowedRoots) == "/var/lib/radstream/images")
        #expect(manifests.contains("{name: images, mountPath: /var/lib/radstream/images}"), "mounted writable for the gateway")
        let gatewayGrace = try #require(manifests.matches(of: /terminationGracePeriodSeconds: (\d+)/).last.flatMap { Int($0.1) })
        #expect(gatewayGrace > gateway.acknowledgementSeconds)
    }
}
