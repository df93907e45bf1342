import ArgumentParser
import Foundation
import Harness

struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Benchmarks (build in release mode first: ops/setup.sh).",
        subcommands: [StreamBenchmarkCommand.self, ClassifyBenchmarkCommand.self, ReportsBenchmarkCommand.self, EngineBenchmarkCommand.self,
                      DiffusionBenchmarkCommand.self, DashboardBenchmarkCommand.self, GatewayBenchmarkCommand.self])
}

struct StreamBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Measure the daemon's end-to-end events/s: reports, images, and both mixed.",
        discussion: """
            For each scenario: a fresh database and topics on the embedded broker and a private \
            PostgreSQL; N events published first, then `radstream serve` started as a process of its \
            own. Throughput is measured from its first committed batch to its last (the group join, \
            about 3 s on the embedded broker, is reported apart); its peak memory (VmHWM) and its CPU \
            time per event over the same span (user and system, all its threads: on a shared machine \
            the steadier figure) are read from /proc. Images are PneumoniaMNIST PNGs (28×28) sent inline; reports are IU XML. \
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
            "reports" runs the labeler and the summarizer as configured by default (greedy, reranked \
            with a memory: here the IU reports folder, as a stream that has run a while would have \
            in PostgreSQL), "reports-beam" the same with beam search, "reports-without-memory" the \
            model alone (greedy), "reports-without-summarizer" the labeler alone. \
            "python-peer" (not run unless named) runs scripts/stream_peer.py on the images in the \
            daemon's place: the pipeline a Python team would write (confluent-kafka, PIL, PyTorch \
            running the shipped pneumonia model at batch 256, psycopg writing results and offsets \
            per transaction), to set beside "images-pneumonia-only" and "mixed"; it needs the \
            Python packages named at the top of the script. \
            Build in release mode first: ops/setup.sh.

            Example: radstream benchmark stream --events 4000 --scenarios images,reports,python-peer
            """)

    @Option(help: "Events per scenario.") var events = 5000
    @Option(help: "The shared data folder.") var data = ProcessInfo.processInfo.environment["RADSTREAM_DATA"] ?? "../shared/data"
    @Option(help: "Where the benchmark keeps its PostgreSQL cluster (recreated).") var workDir = "var/benchmark"
    @Option(help: "Events per batch.") var batchSize = 500
    @Option(help: "Scenarios, comma-separated: \(StreamBenchmark.Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scenarios = StreamBenchmark.Scenario.byDefault.map(\.rawValue).joined(separator: ",")
    @Flag(help: "Print the figures as one JSON document (progress to standard error) instead of tables.") var json = false

    private var chosen: [StreamBenchmark.Scenario] { scenarios.split(separator: ",").compactMap { StreamBenchmark.Scenario(rawValue: String($0)) } }

    func validate() throws {
        guard let unknown = scenarios.split(separator: ",").first(where: { StreamBenchmark.Scenario(rawValue: String($0)) == nil }) else { return }
        throw ValidationError("unknown scenario \(unknown); known: \(StreamBenchmark.Scenario.allCases.map(\.rawValue).sorted().joined(separator: ", "))")
    }

    func run() throws {
        let benchmark = StreamBenchmark(options: .init(events: events, data: URL(filePath: data).standardizedFileURL,
                                                       workDir: URL(filePath: workDir).standardizedFileURL, batchSize: batchSize,
                                                       binary: Provenance.binary))
        let report = TablesOutput("benchmark: \(events) events per scenario, batches of \(batchSize), daemon binary \(Provenance.binary)", json: json)
        report.table(["scenario", "events", "events/s (steady)", "s to first commit", "peak RSS MiB (daemon or peer)", "CPU ms/event (daemon or peer)"])
        try benchmark.run(chosen, log: { report.note("benchmark: \($0)") }) { scenario, result in
            report.row([scenario.rawValue, "\(events)", "\(Int(result.rate))", String(format: "%.1f", result.startup), "\(result.peakMiB)",
                        String(format: "%.2f", result.cpuMillisecondsPerEvent)])
        }
        try report.finish()
    }
}

struct DashboardBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "The dashboard's queries under EXPLAIN ANALYZE on a database filled by a replay.",
        discussion: """
            Replays --events events (half PneumoniaMNIST images, read by both classifiers; half IU \
            reports, labelled) through `radstream serve` on the embedded broker and a private \
            PostgreSQL, in chunks the broker can hold; moves the older half of the rows a month \
            back (history outside the week the panels show); then runs every panel of \
            ops/grafana/dashboards/radstream.json (the last 7 days) and the web dashboard's main reads \
            under EXPLAIN ANALYZE, and prints each one's rows, planning and execution time and the \
            indexes its plan uses. Build in release mode first: ops/setup.sh.

            Example: radstream benchmark dashboard --events 100000
            """)

    @Option(help: "Events to replay.") var events = 100_000
    @Option(help: "The shared data folder.") var data = ProcessInfo.processInfo.environment["RADSTREAM_DATA"] ?? "../shared/data"
    @Option(help: "Where the benchmark keeps its PostgreSQL cluster (recreated).") var workDir = "var/benchmark-dashboard"
    @Option(help: "The Grafana dashboard whose panels are measured.") var grafana = "ops/grafana/dashboards/radstream.json"
    @Flag(help: "Print the figures as one JSON document (progress to standard error) instead of tables.") var json = false

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be positive") }
    }

    func run() throws {
        let outcome = try DashboardBenchmark(options: .init(
            events: events, data: URL(filePath: data).standardizedFileURL, workDir: URL(filePath: workDir).standardizedFileURL,
            grafanaDashboard: URL(filePath: grafana).standardizedFileURL, binary: Provenance.binary)).run(log: {
                if json { FileHandle.standardError.write(Data("benchmark: \($0)\n".utf8)) } else { print("benchmark: \($0)") }
            })
        let counts = outcome.counts
        let report = TablesOutput("benchmark: \(counts.images) images, \(outcome.predictions) predictions, \(counts.reports) reports, \(counts.deadLetters) dead letters", json: json)
        report.table(["query", "rows", "planning ms", "execution ms", "indexes used"])
        for measured in outcome.measured {
            report.row([measured.query, "\(measured.rows)", String(format: "%.2f", measured.planningMilliseconds),
                        String(format: "%.2f", measured.executionMilliseconds), measured.indexes.isEmpty ? "none" : measured.indexes.joined(separator: ", ")])
        }
        try report.finish()
    }
}
