import ArgumentParser
import ChildProcesses
import Events
import Foundation
import Harness
import Kafka
import Pipeline
import Postgres

struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Benchmarks (build in release mode first: ops/setup.sh).",
        subcommands: [StreamBenchmarkCommand.self, ClassifyBenchmarkCommand.self, ReportsBenchmarkCommand.self, EngineBenchmarkCommand.self,
                      DiffusionBenchmarkCommand.self])
}

struct StreamBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Measure the daemon's end-to-end events/s: reports, images, and both mixed.",
        discussion: """
            For each scenario: a fresh database and topics on the embedded broker and a private \
            PostgreSQL; N events published first, then `radstream serve` started as a process of its \
            own. Throughput is measured from its first committed batch to its last (the group join, \
            about 3 s on the embedded broker, is reported apart), and its peak memory (VmHWM) is read \
            from /proc. Images are PneumoniaMNIST PNGs (28×28) sent inline; reports are IU XML. \
            "images" runs the shipped classifiers (probabilities, decision, Grad-CAM PNG per image) \
            and the captioner (greedy); "images-without-captioner" the classifiers alone; \
            "images-pneumonia-only" the pneumonia model alone (the reference CNN: the Python peer's \
            setup); "images-self-training" the same while a self-training round runs beside the \
            stream (due after 200 images, at the configured share of a core, long enough to last \
            the whole measurement); "images-with-counterfactuals" the classifiers while the \
            counterfactual worker explains their positive calls beside the stream (at its \
            configured share of a core; every other scenario has it off, and this one is measured \
            against "images-without-captioner"); "images-without-models" the same events with the \
            models turned off, for the ratio. \
            "reports" runs the labeler and the summarizer as configured by default (beam search), \
            "reports-greedy" the summarizer greedy, "reports-without-summarizer" the labeler alone. \
            Build in release mode first: ops/setup.sh.

            Example: radstream benchmark stream --events 4000 --scenarios images,reports
            """)

    @Option(help: "Events per scenario.") var events = 5000
    @Option(help: "The shared data folder.") var data = ProcessInfo.processInfo.environment["RADSTREAM_DATA"] ?? "../shared/data"
    @Option(help: "Where the benchmark keeps its PostgreSQL cluster (recreated).") var workDir = "var/benchmark"
    @Option(help: "Events per batch.") var batchSize = 500
    @Option(help: "Scenarios, comma-separated: \(Self.knownScenarios.joined(separator: ", ")).")
    var scenarios = Self.knownScenarios.joined(separator: ",")

    static let knownScenarios = ["reports", "reports-greedy", "reports-without-summarizer", "images", "images-without-captioner",
                                 "images-pneumonia-only", "images-self-training", "images-with-counterfactuals", "images-without-models",
                                 "mixed"]
    static let imageScenarios: Set = ["images", "images-without-captioner", "images-pneumonia-only", "images-self-training",
                                      "images-with-counterfactuals", "images-without-models"]

    func validate() throws {
        let known = Set(Self.knownScenarios)
        guard let unknown = scenarios.split(separator: ",").map(String.init).first(where: { !known.contains($0) }) else { return }
        throw ValidationError("unknown scenario \(unknown); known: \(known.sorted().joined(separator: ", "))")
    }

    func run() throws {
        let dataURL = URL(filePath: data).standardizedFileURL
        let stack = try LocalStack.start(directory: URL(filePath: workDir).appending(path: "postgres").standardizedFileURL,
                                         partitions: 6, durable: true, log: { print("benchmark: \($0)") })
        defer { try? stack.stop() }
        let source = try SampleEvents(data: dataURL)
        print("benchmark: \(events) events per scenario, batches of \(batchSize), daemon binary \(Provenance.binary)")
        print("| scenario | events | events/s (steady) | s to first commit | daemon peak RSS |")
        print("|---|---|---|---|---|")
        for scenario in scenarios.split(separator: ",").map(String.init) {
            let result = try measure(scenario: scenario, stack: stack, source: source)
            print("| \(scenario) | \(events) | \(Int(result.rate)) | \(String(format: "%.1f", result.startup)) | \(result.peakMiB) MiB |")
        }
    }

    struct Result { let rate: Double; let startup: Double; let peakMiB: Int }

    private func measure(scenario: String, stack: LocalStack, source: SampleEvents) throws -> Result {
        var configuration = stack.configuration
        let name = "bench_\(scenario.replacingOccurrences(of: "-", with: "_"))_\(getpid())"
        configuration.kafka.imageTopic = "\(name).images"
        configuration.kafka.reportTopic = "\(name).reports"
        configuration.kafka.groupID = name
        configuration.batch.maxEvents = batchSize
        configuration.models.classifyImages = scenario != "images-without-models"
        configuration.models.classifiers = ["images-pneumonia-only", "images-self-training"].contains(scenario) ? ["pneumonia"] : []
        configuration.models.summarizeReports = scenario != "reports-without-summarizer"
        configuration.models.captionImages = !["images-without-captioner", "images-pneumonia-only", "images-self-training",
                                                "images-with-counterfactuals", "images-without-models"].contains(scenario)
        configuration.counterfactuals.enabled = scenario == "images-with-counterfactuals"
        if scenario == "images-self-training" {
            configuration.selfTraining.enabled = true
            configuration.selfTraining.labeledData = URL(filePath: data).appending(path: "pneumoniamnist").standardizedFileURL.path
            configuration.selfTraining.newImages = 200
            configuration.selfTraining.checkSeconds = 1
            configuration.selfTraining.round.epochs = 1000  // bounded by maxSteps: longer than the stream
        }
        configuration.models.summaryDecoding = scenario == "reports-greedy" ? .greedy : .beam
        for topic in configuration.topics {
            // 12 partitions: the embedded broker keeps ~5 MB per partition, and the events are
            // all published before the daemon starts.
            try stack.broker.createTopic(topic, partitions: 12)
            try stack.broker.createTopic(configuration.deadLetterTopic(for: topic), partitions: 12)
        }
        let admin = try PostgresConnection(stack.postgres.conninfo)
        try admin.execute("CREATE DATABASE \(name)")
        configuration.postgres.conninfo = stack.postgres.conninfo.replacingOccurrences(of: "dbname=radstream", with: "dbname=\(name)")
        let database = try PostgresConnection(configuration.postgres.conninfo)
        try DatabaseMigrations.apply(on: database)

        let producer = try stack.producer()
        func publish(_ range: Range<Int>) throws {
            for index in range {
                let event = switch scenario {
                case "reports", "reports-greedy", "reports-without-summarizer": source.report(index)
                case _ where Self.imageScenarios.contains(scenario): source.image(index)
                default: index % 2 == 0 ? source.report(index) : source.image(index)
                }
                let topic = if case .image = event { configuration.kafka.imageTopic } else { configuration.kafka.reportTopic }
                try producer.send(topic: topic, key: Array(event.studyID.utf8), value: event.encoded())
            }
            try producer.flush(timeout: .seconds(120))
        }
        // With self-training, the images that make the round due go first; the measured stream
        // is published once the round is training.
        let trainsBeside = scenario == "images-self-training"
        let firstEvents = trainsBeside ? min(events, 300) : events
        try publish(0..<firstEvents)

        let directory = URL(filePath: workDir).standardizedFileURL
        let configFile = directory.appending(path: "\(name).json")
        try JSONEncoder().encode(configuration).write(to: configFile)
        var started = ContinuousClock.now
        let pid = try ChildProcess.spawn(Provenance.binary, ["serve", "--config", configFile.path],
                                         outputPath: directory.appending(path: "\(name).log").path)
        var measuredFrom = 0
        if trainsBeside {
            // The round holds its advisory lock from its start; its first seconds read the labeled set.
            while try database.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted").scalarInt == 0 {
                if ContinuousClock.now - started > .seconds(120) { throw ValidationError("\(scenario): no round started") }
                Thread.sleep(forTimeInterval: 0.1)
            }
            Thread.sleep(forTimeInterval: 10)
            measuredFrom = try database.execute("SELECT count(*) FROM images").scalarInt ?? 0
            started = ContinuousClock.now
            try publish(firstEvents..<events)
        }
        var firstCommit: (ContinuousClock.Instant, Int)?
        var peak = 0
        while true {
            let done = try database.execute("SELECT (SELECT count(*) FROM images) + (SELECT count(*) FROM reports) + (SELECT count(*) FROM dead_letters)").scalarInt ?? 0
            peak = max(peak, Self.peakResidentKiB(of: pid))
            if done > measuredFrom && firstCommit == nil { firstCommit = (.now, done) }
            if done >= events { break }
            if ContinuousClock.now - started > .seconds(600) { throw ValidationError("\(scenario): only \(done) of \(events) after 10 minutes") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let finished = ContinuousClock.now
        peak = max(peak, Self.peakResidentKiB(of: pid))
        kill(pid, SIGTERM)
        _ = ChildProcess.wait(pid)
        guard let (first, atFirst) = firstCommit else { throw ValidationError("nothing committed") }
        return Result(rate: Double(events - atFirst) / BenchmarkClock.seconds(finished - first), startup: BenchmarkClock.seconds(first - started),
                      peakMiB: peak / 1024)
    }

    /// VmHWM: the most memory the process has held resident.
    static func peakResidentKiB(of pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
