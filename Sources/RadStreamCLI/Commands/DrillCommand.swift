import ArgumentParser
import Foundation
import Harness

struct DrillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Run a stream under random faults for N minutes, then check that every event had its effect exactly once.",
        discussion: """
            The soak to run before go-live. Starts the embedded broker (3 brokers) and a private \
            PostgreSQL in --work-dir, and `radstream serve` as a child process, supervised as \
            systemd would (restarted whenever it dies). Publishes IU reports and PneumoniaMNIST \
            images from --data at --rate events/s, every --bad-every-th a malformed record. Every \
            10-40 s (--fault-interval) it injects a fault, every kind once in each four, in random \
            order: the daemon SIGKILLed; \
            PostgreSQL stopped for 2-5 s; a broker refusing connections for 2-5 s; every \
            partition's leader moved. After --minutes it stops publishing, waits for the daemon to \
            drain and checks: each good event has exactly one result, each bad one exactly one \
            dead letter, the stored offsets reach the end of every partition, the daemon never \
            died on its own and stops cleanly on SIGTERM. Exit status 0 only if all hold.

            The daemon runs with the configuration's defaults; the environment overrides them as \
            for serve (e.g. RADSTREAM_SUMMARIZE_REPORTS=false). Build in release mode first for \
            realistic rates: ops/setup.sh. Choose --rate below what the daemon sustains through \
            the faults (every model on, about 70 events/s of this mixed stream on two cores \
            without faults; each SIGKILL costs a batch processed event by event): the embedded \
            broker keeps at most 5 MiB per partition, so a backlog that keeps growing loses its \
            oldest records to the broker, which the report counts.

            Example: radstream drill --minutes 30 --json drill.json
            """)

    @Option(help: "How long the stream runs, in minutes.") var minutes: Double = 10
    @Option(help: "Events per second published.") var rate: Double = 40
    @Option(help: "Seconds between faults, as MIN-MAX (drawn at random).") var faultInterval = "10-40"
    @Option(help: "Every N-th event is malformed.") var badEvery = 50
    @Option(help: "Seed of the faults' sequence.") var seed: UInt64 = 1
    @Option(help: "The shared data folder.") var data = ProcessInfo.processInfo.environment["RADSTREAM_DATA"] ?? "../shared/data"
    @Option(help: "Where the drill keeps its PostgreSQL cluster and the daemon's logs (recreated).") var workDir = "var/drill"
    @Option(help: "Also write the report as JSON to this file.") var json: String?

    var interval: ClosedRange<Double>? {
        let parts = faultInterval.split(separator: "-").compactMap { Double($0) }
        guard parts.count == 2, parts[0] > 0, parts[0] <= parts[1] else { return nil }
        return parts[0]...parts[1]
    }

    func validate() throws {
        guard minutes > 0, rate > 0, badEvery >= 2 else { throw ValidationError("--minutes and --rate must be positive, --bad-every at least 2") }
        guard interval != nil else { throw ValidationError("--fault-interval must be MIN-MAX seconds, e.g. 10-40") }
    }

    func run() throws {
        let drill = StreamDrill(options: .init(
            minutes: minutes, rate: rate, faultInterval: interval!, badEvery: badEvery, seed: seed,
            data: URL(filePath: data).standardizedFileURL, workDir: URL(filePath: workDir).standardizedFileURL,
            binary: Provenance.binary))
        // Progress on standard error, unbuffered: the drill runs for many minutes, often into a log file.
        let report = try drill.run(progress: { ProgressLine.finish($0) })
        print("""

            | drill | |
            |---|---|
            | minutes, rate | \(report.minutes), \(Int(report.rate)) events/s |
            | published | \(report.published) (\(report.good) good, \(report.bad) malformed); on Kafka \(report.onKafka) |
            | deleted by the broker | \(report.deletedByBroker) records from the partitions' heads (consumed or not; it keeps 5 MiB per partition) |
            | faults | \(report.faults.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")) |
            | daemon starts | \(report.daemonStarts) (died on its own: \(report.unexpectedExits.count)) |
            | results | \(report.results); lost \(report.lost), duplicated \(report.duplicated) |
            | dead letters | \(report.deadLetters) of \(report.bad); missing \(report.deadLettersMissing) |
            | offsets at the partitions' end | \(report.offsetsAtEnd) |
            | drained in | \(String(format: "%.1f", report.drainSeconds)) s after publishing stopped |
            | SIGTERM at the end | exit \(report.finalExitStatus.map(String.init) ?? "—") |
            | verdict | \(verdict(report)) |
            """)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(filePath: json))
        }
        if !report.passed { throw ExitCode.failure }
    }

    func verdict(_ report: DrillReport) -> String {
        if report.passed { return "PASSED: every event exactly once" }
        if report.lost > 0 && report.deletedByBroker > 0 {
            return "FAILED: events lost, and the broker deleted records before they were read: the daemon fell behind (lower --rate)"
        }
        return "FAILED"
    }
}
