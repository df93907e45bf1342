import Foundation
import Kafka
import Pipeline
import Postgres

/// The soak a hospital runs before go-live: a stream at a steady rate for N minutes through
/// random faults — the daemon SIGKILLed, PostgreSQL restarted, a broker down, leaders moved —
/// and at the end, every event checked: each good one has exactly one result, each bad one
/// exactly one dead letter, and the stored offsets reach the end of every partition.
public struct StreamDrill {
    public struct Options: Sendable {
        public var minutes: Double
        /// Events per second published.
        public var rate: Double
        /// Seconds between two faults, drawn at random from this range.
        public var faultInterval: ClosedRange<Double>
        /// Every `badEvery`-th event is malformed.
        public var badEvery: Int
        public var seed: UInt64
        public var data: URL
        public var workDir: URL
        /// The `radstream` binary whose `serve` is drilled.
        public var binary: String

        public init(minutes: Double, rate: Double, faultInterval: ClosedRange<Double>, badEvery: Int, seed: UInt64, data: URL,
                    workDir: URL, binary: String) {
            (self.minutes, self.rate, self.faultInterval, self.badEvery, self.seed) = (minutes, rate, faultInterval, badEvery, seed)
            (self.data, self.workDir, self.binary) = (data, workDir, binary)
        }
    }

    let options: Options
    /// The embedded broker keeps at most 5 MiB per partition (librdkafka's mock cluster, a fixed
    /// limit), about 900 inline IU reports: 24 partitions let a backlog of some 20,000 reports —
    /// ten minutes of the default rate without any progress — wait for the daemon.
    static let partitions = 24

    public init(options: Options) {
        self.options = options
    }

    public func run(progress: (String) -> Void) throws -> DrillReport {
        try FileManager.default.createDirectory(at: options.workDir, withIntermediateDirectories: true)
        var stack = try LocalStack.start(directory: options.workDir.appending(path: "postgres"), partitions: Self.partitions,
                                         durable: true, log: { progress("drill: \($0)") })
        defer { try? stack.stop() }
        stack.configuration.kafka.groupID = "radstream-drill"
        // The mock cluster's "broker down" leaves requests in flight to time out rather than fail:
        // 10 s instead of librdkafka's 60 for the publisher and the daemon alike.
        stack.configuration.kafka.properties = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
                                                "socket.timeout.ms": "10000"]
        let configuration = stack.configuration
        let daemon = try DrillDaemon(binary: options.binary, configuration: configuration, directory: options.workDir)
        try daemon.start()
        let publisher = DrillPublisher(producer: try stack.producer(), events: try SampleEvents(data: options.data),
                                       imageTopic: configuration.kafka.imageTopic, reportTopic: configuration.kafka.reportTopic,
                                       rate: options.rate, badEvery: options.badEvery)
        let faults = DrillFaults(daemon: daemon, postgres: stack.postgres, broker: stack.broker,
                                 topics: configuration.topics.flatMap { [$0, configuration.deadLetterTopic(for: $0)] },
                                 partitions: Self.partitions)
        var generator = SplitMix64(seed: options.seed)
        var injected: [DrillFault: Int] = [:]
        // Every kind of fault in each run of four, in a shuffled order.
        var upcoming: [DrillFault] = []
        let started = ContinuousClock.now
        let end = started + .seconds(options.minutes * 60)
        var nextFault = started + .seconds(Double.random(in: options.faultInterval, using: &generator))
        var lastProgress = started
        var warnedOfBacklog = false
        while ContinuousClock.now < end {
            Thread.sleep(forTimeInterval: 0.2)
            try daemon.superviseOnce()
            if ContinuousClock.now >= nextFault {
                if upcoming.isEmpty { upcoming = DrillFault.allCases.shuffled(using: &generator) }
                let fault = upcoming.removeFirst()
                progress("drill: \(Self.clock(ContinuousClock.now - started)) \(fault.rawValue)")
                try faults.inject(fault, using: &generator)
                injected[fault, default: 0] += 1
                nextFault = ContinuousClock.now + .seconds(Double.random(in: options.faultInterval, using: &generator))
            }
            if ContinuousClock.now - lastProgress >= .seconds(10) {
                lastProgress = .now
                let written = (try? DrillCheck.written(stack.postgres.conninfo)) ?? -1
                let published = publisher.sent.good + publisher.sent.bad
                progress("drill: \(Self.clock(ContinuousClock.now - started)) of \(Self.clock(end - started)): "
                         + "\(published) published, \(written) written, \(injected.values.reduce(0, +)) faults")
                // Two minutes of publishing behind: say what that risks, once.
                if !warnedOfBacklog && written >= 0 && Double(published - written) > options.rate * 120 {
                    warnedOfBacklog = true
                    progress("""
                        drill: the daemon is \(published - written) events behind: the embedded broker keeps at most 5 MiB per \
                        partition and deletes the oldest records past it, so a backlog that keeps growing loses records to the \
                        broker; lower --rate to what the daemon sustains through the faults
                        """)
                }
            }
        }
        publisher.stop()
        progress("drill: publishing stopped at \(publisher.sent.good + publisher.sent.bad) events; waiting for the daemon to drain")
        let drainStarted = ContinuousClock.now
        let onKafka = try DrillCheck.recordsOnKafka(configuration, partitions: Self.partitions).published
        var last = -1, lastChange = ContinuousClock.now
        while true {
            try daemon.superviseOnce()
            let written = try DrillCheck.written(stack.postgres.conninfo)
            if written >= onKafka { break }
            if written != last { (last, lastChange) = (written, .now) }
            if ContinuousClock.now - lastChange > .seconds(120) {
                progress("drill: nothing written for 120 s with \(onKafka - written) records left")
                break
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        let drain = ContinuousClock.now - drainStarted
        let exitStatus = daemon.stop()
        var report = try DrillCheck.verify(conninfo: stack.postgres.conninfo, configuration: configuration, sent: publisher.sent,
                                           badEvery: options.badEvery, onKafka: onKafka)
        report.deletedByBroker = try DrillCheck.recordsOnKafka(configuration, partitions: Self.partitions).deleted
        report.minutes = options.minutes
        report.rate = options.rate
        report.faults = Dictionary(uniqueKeysWithValues: injected.map { ($0.key.rawValue, $0.value) })
        report.daemonStarts = daemon.starts
        report.unexpectedExits = daemon.unexpectedExits
        report.finalExitStatus = exitStatus
        report.drainSeconds = Double(drain.components.seconds) + Double(drain.components.attoseconds) / 1e18
        return report
    }

    static func clock(_ duration: Duration) -> String {
        let seconds = Int(duration.components.seconds)
        return String(format: "%d:%02d", seconds / 60, seconds % 60)
    }
}

/// A seeded generator, so that a drill's sequence of faults can be run again.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
