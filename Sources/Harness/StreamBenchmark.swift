import ChildProcesses
import Foundation
import Models
import Pipeline
import Postgres

/// The daemon's events/s end to end: for each scenario a fresh database and topics on the local
/// stack, the events published first, then `radstream serve` started as a process of its own and
/// measured from its first committed batch to its last, with its peak memory. The Python peer
/// (`scripts/stream_peer.py`) is measured the same way, in the daemon's place.
public struct StreamBenchmark {
    /// What the daemon runs, and on which events.
    public enum Scenario: String, CaseIterable, Sendable {
        case reports, reportsBeam = "reports-beam", reportsWithoutMemory = "reports-without-memory"
        case reportsWithoutSummarizer = "reports-without-summarizer"
        case images, imagesWithoutCaptioner = "images-without-captioner", imagesPneumoniaOnly = "images-pneumonia-only"
        case imagesSelfTraining = "images-self-training", imagesWithCounterfactuals = "images-with-counterfactuals"
        case imagesWithoutModels = "images-without-models", mixed
        /// The image pipeline a Python team would write, on the images in the daemon's place.
        case pythonPeer = "python-peer"

        /// What a benchmark runs unless told: the peer needs Python packages the product does not.
        public static var byDefault: [Scenario] { allCases.filter { $0 != .pythonPeer } }

        var streamsReports: Bool { [.reports, .reportsBeam, .reportsWithoutMemory, .reportsWithoutSummarizer].contains(self) }
        var streamsImages: Bool { !streamsReports && self != .mixed }
        /// A self-training round trains beside the measured stream.
        var trainsBeside: Bool { self == .imagesSelfTraining }

        /// The stack's configuration as the scenario wants it: which models, which helpers.
        func configure(_ configuration: inout RadStreamConfiguration, labeledData: URL, reports: URL) {
            configuration.models.classifyImages = self != .imagesWithoutModels
            configuration.models.classifiers = [.imagesPneumoniaOnly, .imagesSelfTraining, .pythonPeer].contains(self) ? ["pneumonia"] : []
            configuration.models.summarizeReports = self != .reportsWithoutSummarizer
            configuration.models.captionImages = ![.imagesWithoutCaptioner, .imagesPneumoniaOnly, .imagesSelfTraining,
                                                   .imagesWithCounterfactuals, .imagesWithoutModels, .pythonPeer].contains(self)
            configuration.counterfactuals.enabled = self == .imagesWithCounterfactuals
            if trainsBeside {
                configuration.selfTraining.enabled = true
                configuration.selfTraining.labeledData = labeledData.path
                configuration.selfTraining.newImages = 200
                configuration.selfTraining.checkSeconds = 1
                configuration.selfTraining.round.epochs = 1000  // bounded by maxSteps: longer than the stream
            }
            configuration.models.summaryDecoding = self == .reportsBeam ? .beam : .greedy
            // The memory as a stream that has run for a while would have it: the events are all
            // published before the daemon starts, so PostgreSQL holds none of them yet.
            configuration.models.summaryMemory.source = self == .reportsWithoutMemory ? .none : .folder
            configuration.models.summaryMemory.folder = reports.path
        }
    }

    public struct Options: Sendable {
        public var events: Int
        public var data: URL
        public var workDir: URL
        public var batchSize: Int
        /// The `radstream` binary the daemon runs from.
        public var binary: String
        /// The Python peer's script, and the classifier it runs (the shipped pneumonia model).
        public var peerScript: URL
        public var peerWeights: URL

        public init(events: Int, data: URL, workDir: URL, batchSize: Int, binary: String,
                    peerScript: URL = ModelStore.defaultDirectory().deletingLastPathComponent().appending(path: "scripts/stream_peer.py"),
                    peerWeights: URL = ModelStore.defaultDirectory().appending(path: "pneumonia/\(ModelStore.weightsFileName)")) {
            (self.events, self.data, self.workDir, self.batchSize, self.binary) = (events, data, workDir, batchSize, binary)
            (self.peerScript, self.peerWeights) = (peerScript, peerWeights)
        }
    }

    public struct Result: Sendable {
        public let rate: Double
        public let startup: Double
        public let peakMiB: Int
        /// The daemon's (or the peer's) CPU time, user and system, per event over the steady
        /// span: on a shared machine whose other tenants move the events/s by a quarter from run
        /// to run, the steadier figure of what each event costs.
        public let cpuMillisecondsPerEvent: Double
    }

    let options: Options

    public init(options: Options) {
        self.options = options
    }

    /// Each scenario in turn on one local stack; `result` hears each as it is measured.
    public func run(_ scenarios: [Scenario], log: @escaping (String) -> Void, result: (Scenario, Result) -> Void) throws {
        if scenarios.contains(.pythonPeer) { try checkPeer() }
        let stack = try LocalStack.start(directory: options.workDir.appending(path: "postgres"), partitions: 6, durable: true, log: log)
        defer { try? stack.stop() }
        let source = try SampleEvents(data: options.data)
        for scenario in scenarios { result(scenario, try measure(scenario, stack: stack, source: source)) }
    }

    /// Partitions of each topic: the embedded broker keeps ~5 MB per partition, and the events
    /// are all published before the daemon starts.
    static let partitions = 12
    /// What the embedded broker keeps of a partition (librdkafka's mock cluster: 5 MiB), less a
    /// margin for keys spreading the events unevenly.
    static let brokerBytesPerPartition = 4 << 20

    private func measure(_ scenario: Scenario, stack: LocalStack, source: SampleEvents) throws -> Result {
        let (events, batchSize) = (options.events, options.batchSize)
        let name = "bench_\(scenario.rawValue.replacingOccurrences(of: "-", with: "_"))_\(getpid())"
        let (isolated, database) = try stack.isolatedStream(name, partitions: Self.partitions)
        var configuration = isolated
        configuration.batch.maxEvents = batchSize
        scenario.configure(&configuration, labeledData: options.data.appending(path: "pneumoniamnist"),
                           reports: options.data.appending(path: "openi/reports"))

        let producer = try stack.producer()
        func event(_ index: Int) -> (topic: String, key: [UInt8], value: [UInt8]) {
            let event = scenario.streamsReports ? source.report(index)
                : scenario.streamsImages ? source.image(index)
                : index % 2 == 0 ? source.report(index) : source.image(index)
            let topic = if case .image = event { configuration.kafka.imageTopic } else { configuration.kafka.reportTopic }
            return (topic, Array(event.studyID.utf8), event.encoded())
        }
        func publish(_ range: Range<Int>) throws {
            for index in range {
                let (topic, key, value) = event(index)
                try producer.send(topic: topic, key: key, value: value)
            }
            try producer.flush(timeout: .seconds(120))
        }
        // The embedded broker keeps about 5 MB per partition and drops the oldest records beyond:
        // events that do not fit would never reach the daemon, which the wait below would sit out
        // for its ten minutes.
        let bytesPerTopic = (0..<events).reduce(into: [String: Int]()) { total, index in
            let (topic, _, value) = event(index)
            total[topic, default: 0] += value.count
        }
        if let (topic, bytes) = bytesPerTopic.max(by: { $0.value < $1.value }), bytes / Self.partitions > Self.brokerBytesPerPartition {
            let fitting = events * Self.brokerBytesPerPartition / (bytes / Self.partitions)
            throw HarnessError("""
                \(scenario): \(events) events put \(bytes / Self.partitions / 1024) KB in each partition of \(topic), more than the \
                embedded broker keeps (~\(Self.brokerBytesPerPartition / 1024) KB); at most about \(fitting) events fit
                """)
        }
        // With self-training, the images that make the round due go first; the measured stream
        // is published once the round is training.
        let trainsBeside = scenario.trainsBeside
        let firstEvents = trainsBeside ? min(events, 300) : events
        try publish(0..<firstEvents)

        var started = ContinuousClock.now
        let pid = scenario == .pythonPeer ? try startPeer(configuration, name: name)
            : try LocalStack.startDaemon(options.binary, configuration: configuration, name: name, in: options.workDir)
        // The events committed: the stored offsets of fresh topics sum to them, written in each
        // batch's transaction by the daemon and the peer alike. (Counting the result tables every
        // 20 ms had cost PostgreSQL a scan of each, 3% of the machine, taken from what was measured.)
        func committedEvents() throws -> Int {
            try database.execute("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE consumer_group = $1",
                                 [.text(configuration.kafka.groupID)]).scalarInt ?? 0
        }
        var measuredFrom = 0
        if trainsBeside {
            // The round holds its advisory lock from its start; its first seconds read the labeled set.
            while try database.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted").scalarInt == 0 {
                if ContinuousClock.now - started > .seconds(120) { throw HarnessError("\(scenario): no round started") }
                Thread.sleep(forTimeInterval: 0.1)
            }
            Thread.sleep(forTimeInterval: 10)
            measuredFrom = try committedEvents()
            started = ContinuousClock.now
            try publish(firstEvents..<events)
        }
        var firstCommit: (ContinuousClock.Instant, Int)?
        var (peak, cpuAtFirst) = (0, 0.0)
        while true {
            let done = try committedEvents()
            peak = max(peak, Self.peakResidentKiB(of: pid))
            if done > measuredFrom && firstCommit == nil { (firstCommit, cpuAtFirst) = ((.now, done), Self.cpuSeconds(of: pid)) }
            if done >= events { break }
            if ContinuousClock.now - started > .seconds(600) { throw HarnessError("\(scenario): only \(done) of \(events) after 10 minutes") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let (finished, cpuAtLast) = (ContinuousClock.now, Self.cpuSeconds(of: pid))
        peak = max(peak, Self.peakResidentKiB(of: pid))
        kill(pid, SIGTERM)
        _ = ChildProcess.wait(pid)
        guard let (first, atFirst) = firstCommit else { throw HarnessError("nothing committed") }
        let measured = Double(events - atFirst)
        return Result(rate: measured / Self.seconds(finished - first), startup: Self.seconds(first - started),
                      peakMiB: peak / 1024, cpuMillisecondsPerEvent: (cpuAtLast - cpuAtFirst) * 1000 / max(measured, 1))
    }

    /// The peer can run: its script, its weights, and python3 with the packages it imports.
    private func checkPeer() throws {
        for file in [options.peerScript, options.peerWeights] where !FileManager.default.fileExists(atPath: file.path) {
            throw HarnessError("python-peer: no \(file.path)")
        }
        let check = try ChildProcess.run("/usr/bin/env", ["python3", "-c", "import torch, confluent_kafka, psycopg, PIL, safetensors, numpy"])
        guard check.status == 0 else {
            throw HarnessError("python-peer: python3 cannot import the peer's packages (the pip commands are at the top of \(options.peerScript.path)): \(check.output)")
        }
    }

    /// The peer on the scenario's image topic and database, logging to `<name>.log`.
    private func startPeer(_ configuration: RadStreamConfiguration, name: String) throws -> pid_t {
        try ChildProcess.spawn("/usr/bin/env", [
            "python3", options.peerScript.path, "--bootstrap-servers", configuration.kafka.bootstrapServers,
            "--topic", configuration.kafka.imageTopic, "--group", configuration.kafka.groupID,
            "--postgres", configuration.postgres.conninfo, "--weights", options.peerWeights.path,
        ], outputPath: options.workDir.appending(path: "\(name).log").path)
    }

    /// VmHWM: the most memory the process has held resident.
    static func peakResidentKiB(of pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// User and system CPU seconds of the process's threads so far (/proc/<pid>/stat's utime
    /// and stime, fields 14 and 15, in clock ticks).
    static func cpuSeconds(of pid: pid_t) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return 0 }
        // After the command's closing parenthesis: field 3 (the state) onwards.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
