import ChildProcesses
import Foundation
import Kafka
import Pipeline

/// Instances/s through `radstream gateway` end to end onto Kafka, beside DCMTK's own storescp
/// (which writes the files and nothing more) as the ceiling, with the same senders: `storescu`
/// processes, each one association sending its share of the instances. The instances are copies
/// of the shared data's real chest DICOM (1024², JPEG baseline, 127 KB), made distinct by dcmodify.
public struct GatewayBenchmark {
    public struct Options: Sendable {
        public var instances: Int
        /// Concurrent associations (storescu processes) to measure, one run each.
        public var associations: [Int]
        public var data: URL
        public var workDir: URL
        public var binary: String

        public init(instances: Int, associations: [Int], data: URL, workDir: URL, binary: String) {
            (self.instances, self.associations, self.data, self.workDir, self.binary) = (instances, associations, data, workDir, binary)
        }
    }

    public struct Measured: Sendable {
        public let receiver: String
        public let associations: Int
        /// Instances the senders heard success for.
        public let acknowledged: Int
        /// Image events on Kafka afterwards (nil for storescp, which publishes none).
        public let onKafka: Int?
        public let seconds: Double
        public let peakMiB: Int
        public var rate: Double { Double(acknowledged) / seconds }
    }

    public struct Outcome: Sendable {
        /// The instances' total size.
        public let bytes: Int
        public let measured: [Measured]
    }

    let options: Options
    private let tools = "/usr/bin"
    /// DCMTK's tools leave Nagle's algorithm on unless told (the gateway turns it off for itself):
    /// with it on, every response waits for a delayed ACK, ~40 ms an instance. Both senders and
    /// storescp run with it off, as a PACS tuned for throughput would.
    static let noDelay = ["TCP_NODELAY": "1"]

    public init(options: Options) { self.options = options }

    public func run(log: @escaping (String) -> Void) throws -> Outcome {
        for tool in ["storescu", "storescp", "dcmodify", "echoscu"] where !FileManager.default.isExecutableFile(atPath: "\(tools)/\(tool)") {
            throw HarnessError("\(tools)/\(tool) is missing: install Debian's dcmtk (ops/setup.sh does)")
        }
        try? FileManager.default.removeItem(at: options.workDir)
        try FileManager.default.createDirectory(at: options.workDir, withIntermediateDirectories: true)
        let files = try makeInstances(log: log)
        let bytes = files.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1.path)[.size] as? Int) ?? 0) }
        log("\(files.count) instances, \(bytes / 1_000_000) MB")
        let broker = try EmbeddedBroker(brokers: 1)
        var measured: [Measured] = []
        for associations in options.associations {
            measured.append(try storescp(files, associations: associations, log: log))
            measured.append(try gateway(files, associations: associations, broker: broker, log: log))
        }
        return Outcome(bytes: bytes, measured: measured)
    }

    private func makeInstances(log: (String) -> Void) throws -> [URL] {
        let folder = options.workDir.appending(path: "instances")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let original = options.data.appending(path: "samples/1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm")
        let files = (0..<options.instances).map { folder.appending(path: "instance-\($0).dcm") }
        for file in files {
            try FileManager.default.copyItem(at: original, to: file)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        }
        log("giving \(files.count) copies their own study, series and instance UIDs (dcmodify)")
        for start in stride(from: 0, to: files.count, by: 200) {
            let chunk = files[start..<min(start + 200, files.count)].map(\.path)
            let run = try ChildProcess.run("\(tools)/dcmodify", ["-nb", "-gin", "-gse", "-gst"] + chunk)
            guard run.status == 0 else { throw HarnessError("dcmodify: \(run.output.suffix(500))") }
        }
        return files
    }

    /// Runs the senders: `associations` storescu processes splitting `files`; returns the
    /// acknowledged count and the seconds from the first start to the last exit.
    private func send(_ files: [URL], to port: Int, associations: Int) throws -> (acknowledged: Int, seconds: Double) {
        let shares = (0..<associations).map { index in stride(from: index, to: files.count, by: associations).map { files[$0].path } }
        let logs = (0..<associations).map { options.workDir.appending(path: "storescu-\($0).log") }
        let started = ContinuousClock.now
        let senders = try zip(shares, logs).map { share, log in
            try ChildProcess.spawn("\(tools)/storescu", ["-v", "-xy", "-aec", "RADSTREAM", "127.0.0.1", String(port)] + share,
                                   outputPath: log.path, environment: Self.noDelay)
        }
        for sender in senders { _ = ChildProcess.wait(sender) }
        let seconds = StreamBenchmark.seconds(ContinuousClock.now - started)
        let acknowledged = logs.reduce(0) { total, log in
            total + ((try? String(contentsOf: log, encoding: .utf8)) ?? "").matches(of: /Received Store Response \(Success\)/).count
        }
        return (acknowledged, seconds)
    }

    private func storescp(_ files: [URL], associations: Int, log: (String) -> Void) throws -> Measured {
        let port = try LoopbackPort.free()
        let output = options.workDir.appending(path: "storescp-\(associations)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        // Every transfer syntax accepted, the data written as received; one process a association.
        var arguments = ["-aet", "RADSTREAM", "+xa", "-B", "-od", output.path]
        if associations > 1 { arguments.append("--fork") }
        let pid = try ChildProcess.spawn("\(tools)/storescp", arguments + [String(port)],
                                         outputPath: options.workDir.appending(path: "storescp-\(associations).log").path,
                                         environment: Self.noDelay)
        // storescp has no graceful stop: it waits for associations until killed.
        defer { kill(pid, SIGKILL); _ = ChildProcess.wait(pid) }
        try waitForEcho(port)
        log("storescp, \(associations) association(s)")
        let (acknowledged, seconds) = try send(files, to: port, associations: associations)
        return Measured(receiver: "DCMTK storescp (files only)", associations: associations, acknowledged: acknowledged, onKafka: nil,
                        seconds: seconds, peakMiB: StreamBenchmark.peakResidentKiB(of: pid) / 1024)
    }

    private func gateway(_ files: [URL], associations: Int, broker: EmbeddedBroker, log: (String) -> Void) throws -> Measured {
        var configuration = RadStreamConfiguration.standard
        configuration.kafka.bootstrapServers = broker.bootstrapServers
        configuration.kafka.imageTopic = "gateway-benchmark-\(associations).images"
        configuration.kafka.reportTopic = "gateway-benchmark-\(associations).reports"
        for topic in configuration.topics {
            try broker.createTopic(topic, partitions: 6)
            try broker.createTopic(configuration.deadLetterTopic(for: topic), partitions: 6)
        }
        let root = options.workDir.appending(path: "gateway-\(associations)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        configuration.images.allowedRoots = [root.path]
        configuration.gateway.dicom.port = try LoopbackPort.free()
        configuration.gateway.hl7.enabled = false
        configuration.gateway.http.port = 0
        let configFile = options.workDir.appending(path: "gateway-\(associations).json")
        try JSONEncoder().encode(configuration).write(to: configFile)
        let pid = try ChildProcess.spawn(options.binary, ["gateway", "--config", configFile.path, "--log-level", "warning"],
                                         outputPath: options.workDir.appending(path: "gateway-\(associations).log").path)
        defer { kill(pid, SIGTERM); _ = ChildProcess.wait(pid) }
        try waitForEcho(configuration.gateway.dicom.port)
        log("radstream gateway, \(associations) association(s)")
        let (acknowledged, seconds) = try send(files, to: configuration.gateway.dicom.port, associations: associations)
        let peak = StreamBenchmark.peakResidentKiB(of: pid) / 1024
        let onKafka = try DrillCheck.recordsOnKafka(configuration, partitions: 6).published
        return Measured(receiver: "radstream gateway (checked, durable, on Kafka)", associations: associations, acknowledged: acknowledged,
                        onKafka: onKafka, seconds: seconds, peakMiB: peak)
    }

    private func waitForEcho(_ port: Int) throws {
        for _ in 0..<100 {
            if try ChildProcess.run("\(tools)/echoscu", ["-aec", "RADSTREAM", "127.0.0.1", String(port)]).status == 0 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw HarnessError("nothing answers C-ECHO on port \(port)")
    }
}

/// A loopback port nothing listens on now: the system's choice for a socket bound to port 0.
public enum LoopbackPort {
    public static func free() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw HarnessError("cannot bind a socket to port 0") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
