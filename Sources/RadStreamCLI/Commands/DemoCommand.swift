import ArgumentParser
import Dashboard
import Foundation
import Harness
import Kafka
import Logging
import Pipeline
import Postgres
import Replay
import Synchronization

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start an embedded broker, a private PostgreSQL and the daemon; replay the shared data; summarise.",
        discussion: """
            Everything runs on this machine: the broker on loopback, PostgreSQL in --work-dir as an \
            unprivileged user, the daemon in this process. The IU reports and every image under \
            --data are replayed; when all are processed a summary is printed, with the commands to \
            look at what is running (psql, kcat). Run from a terminal, it then keeps running until \
            Ctrl-C; run from a script (no terminal on standard input), it exits after the summary.

            Example: radstream demo --exit-when-done
            """)

    @Option(help: "The shared data folder (IU reports under openi/reports, images anywhere below).")
    var data = ProcessInfo.processInfo.environment["RADSTREAM_DATA"] ?? "../shared/data"
    @Option(help: "Where the demo keeps its PostgreSQL cluster (recreated on each run).") var workDir = "var/demo"
    @Option(help: "Events per second sent by the replay (the embedded broker keeps only ~5 MB per partition).")
    var rate: Double = 2000
    @Option(help: "Replay at most this many reports and this many images.") var limit: Int?
    @Option(help: "The folder of model folders the daemon serves (default: the shipped models).") var models: String?
    @Flag(help: "Exit once the summary is printed, even from a terminal.") var exitWhenDone = false
    @Flag(help: "Keep running after the summary until Ctrl-C, even from a script.") var stay = false
    @OptionGroup var log: LogOptions
    @Flag(help: "Print the summary as one JSON document on standard output (progress to standard error).") var json = false

    /// A person at a terminal gets a running system to look at; a script gets an exit status.
    private var staysRunning: Bool { stay || (!exitWhenDone && isatty(STDIN_FILENO) == 1) }

    func run() async throws {
        let dataURL = URL(filePath: data).standardizedFileURL
        let reportsURL = dataURL.appending(path: "openi/reports")
        guard FileManager.default.fileExists(atPath: reportsURL.path) else {
            throw ValidationError("no IU reports at \(reportsURL.path): pass --data with the shared data folder")
        }
        let logger = try log.logger(label: "radstream.demo", defaultLevel: .warning)

        var stack = try LocalStack.start(directory: URL(filePath: workDir).appending(path: "postgres").standardizedFileURL,
                                         partitions: 6, durable: true, log: step)
        stack.configuration.kafka.groupID = "radstream-demo"
        stack.configuration.images.allowedRoots = [dataURL.path]
        if let models { stack.configuration.models.directory = URL(filePath: models).standardizedFileURL.path }
        // Whatever ends the demo — a model that does not load, a failed replay, the daemon's
        // failure, Ctrl-C — the PostgreSQL server it started is stopped (the broker lives in this process).
        let totals: Totals
        do {
            totals = try await run(on: stack, reports: reportsURL, images: dataURL, logger: logger)
        } catch {
            try? stack.stop()
            throw error
        }
        try stack.stop()
        if totals.processed != totals.sent { throw ExitCode.failure }
    }

    /// The daemon and the replay on a started stack, until the summary is printed (and, for a
    /// person, until Ctrl-C); the daemon has stopped when this returns or throws.
    private func run(on stack: LocalStack, reports reportsURL: URL, images dataURL: URL, logger: Logger) async throws -> Totals {
        let configuration = stack.configuration
        let (broker, postgres) = (stack.broker, stack.postgres)
        let database = try PostgresConnection(postgres.conninfo)

        step("starting the daemon")
        let httpPort = Mutex(0)
        let group = try Daemon.group(configuration: configuration, logger: logger, onHTTPRunning: { port in httpPort.withLock { $0 = port } })
        let daemon = Task { try await group.run() }
        let dashboard = try DemoDashboard(stack: stack, workDir: URL(filePath: workDir).standardizedFileURL, logger: logger)
        defer { dashboard.task.cancel() }

        let started = ContinuousClock.now
        let totals: Totals
        do {
            step("replaying \(reportsURL.path) and the images under \(dataURL.path) at \(Int(rate)) events/s")
            let replay = startReplay(producer: try stack.producer(), configuration: configuration, reports: reportsURL, images: dataURL)
            totals = try await waitUntilProcessed(replay: replay, database: database, started: started)
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await daemon.value
            throw error
        }
        let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - started).components.seconds)

        let metricsURL = "http://127.0.0.1:\(httpPort.withLock { $0 })/metrics"
        let dashboardURL = "http://127.0.0.1:\(dashboard.port.value.withLock { $0 })/"
        if json {
            try JSONOutput.print(Summary(totals: totals, seconds: seconds, eventsPerSecond: Double(totals.processed) / max(seconds, 0.001),
                                         postgres: postgres.conninfo, broker: broker.bootstrapServers, metrics: metricsURL,
                                         dashboard: dashboardURL, dashboardUser: "demo", dashboardPasswordFile: dashboard.credentials.path))
        } else {
        ProgressLine.finish("""

            RadStream demo — summary
              events in:     \(totals.sent) (\(totals.reports) reports, \(totals.images) images)
              rows out:      \(totals.reportRows) reports, \(totals.imageRows) images, \(totals.pixelRows) kept thumbnails
              dead letters:  \(totals.deadLetters)\(totals.deadLetterCodes.isEmpty ? "" : " (" + totals.deadLetterCodes + ")")
              predictions:   \(totals.predictions.isEmpty ? "none (classifiers off)" : totals.predictions)
              impressions:   \(totals.impressions)
              captions:      \(totals.captions)
              throughput:    \(Int(Double(totals.processed) / max(seconds, 0.001))) events/s end to end (\(String(format: "%.1f", seconds)) s)

            Look at what is running:
              psql "\(postgres.conninfo)" -c 'SELECT study_id, left(impression, 50), left(generated_impression, 50), impression_disagreements FROM reports LIMIT 5'
              psql "\(postgres.conninfo)" -c 'SELECT study_id, left(radiologist_impression, 40), left(generated_impression, 40), disagree_on_pneumonia FROM study_impressions LIMIT 5'
              psql "\(postgres.conninfo)" -c 'SELECT i.image_id, p.model, p.model_version, p.decision, p.probabilities FROM image_predictions p JOIN images i ON i.id = p.image_id LIMIT 6'
              kcat -b \(broker.bootstrapServers) -L
              kcat -b \(broker.bootstrapServers) -C -t \(configuration.kafka.reportTopic) -c 1 -f '%k %s\\n'
              curl -s \(metricsURL) | grep radstream_

            The dashboard: \(dashboardURL) — log in as demo with the password \(dashboard.password)
              (kept in \(dashboard.credentials.path); it reads as the role radstream_reader)
            """)
        }
        if staysRunning {
            ProgressLine.finish("Running until Ctrl-C.")
        } else {
            ProgressLine.finish("Stopping (run with --stay to keep it running and look around).")
            await group.triggerGracefulShutdown()
        }
        try await daemon.value
        return totals
    }

    /// The web dashboard beside the daemon, as the reader role, with a fresh password for a
    /// user `demo` (written, readable by this user only, into the work folder).
    final class DemoDashboard: Sendable {
        /// The port the server took, once it listens.
        final class Port: Sendable { let value = Mutex(0) }
        let port = Port()
        let password: String
        let credentials: URL
        let task: Task<Void, any Error>

        init(stack: LocalStack, workDir: URL, logger: Logger) throws {
            let reader = "radstream_reader"
            try DashboardReader.create(reader, password: nil, on: PostgresConnection(stack.postgres.conninfo))
            let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
            password = String((0..<16).map { _ in alphabet.randomElement()! })
            credentials = workDir.appending(path: "dashboard-users")
            FileManager.default.createFile(atPath: credentials.path, contents: Data("demo:\(password)\n".utf8),
                                           attributes: [.posixPermissions: 0o600])
            let port = self.port
            let application = DashboardServer.application(
                conninfo: stack.postgres.conninfo.replacingOccurrences(of: "user=radstream", with: "user=\(reader)"),
                credentials: try DashboardServer.Credentials(file: credentials), host: "127.0.0.1", port: 0, logger: logger,
                onRunning: { chosen in port.value.withLock { $0 = chosen } })
            task = Task { try await application.runService() }
        }
    }

    private func step(_ text: String) {
        ProgressLine.finish("demo: \(text)")
    }

    /// What the replay thread reports when it ends: its counts, or why it failed.
    final class ReplayOutcome: Sendable {
        let result = Mutex<Result<ReplayPlan.Summary, any Error>?>(nil)
    }

    /// The replay runs on a thread of its own (the producer blocks) and reports when it ends.
    private func startReplay(producer: KafkaProducer, configuration: RadStreamConfiguration, reports: URL,
                             images: URL) -> ReplayOutcome {
        let plan = ReplayPlan(source: ReplaySource(), images: images, reports: reports, limit: limit)
        let (rate, imageTopic, reportTopic) = (rate, configuration.kafka.imageTopic, configuration.kafka.reportTopic)
        let outcome = ReplayOutcome()
        nonisolated(unsafe) let owned = producer  // used by the replay thread only
        Thread.detachNewThread {
            let replayer = Replayer(producer: owned, imageTopic: imageTopic, reportTopic: reportTopic, rate: rate)
            let result = Result { try plan.publish(through: replayer, progress: { _ in }) }
            outcome.result.withLock { $0 = result }
        }
        return outcome
    }

    /// What `--json` prints: the counts, the speed, and where everything is (the dashboard's
    /// password stays in its file).
    struct Summary: Encodable {
        let totals: Totals
        let seconds: Double, eventsPerSecond: Double
        let postgres: String, broker: String, metrics: String, dashboard: String, dashboardUser: String, dashboardPasswordFile: String
    }

    struct Totals: Encodable {
        var sent = 0, reports = 0, images = 0
        var reportRows = 0, imageRows = 0, pixelRows = 0, deadLetters = 0
        var deadLetterCodes = ""
        var predictions = ""
        var impressions = "none (summarizer off)"
        var captions = "none (captioner off)"
        var processed: Int { reportRows + imageRows + deadLetters }
    }

    private func waitUntilProcessed(replay: ReplayOutcome, database: PostgresConnection,
                                    started: ContinuousClock.Instant) async throws -> Totals {
        var totals = Totals()
        let results = StoredResults(connection: database)
        var summary: ReplayPlan.Summary?
        var lastChange = ContinuousClock.now
        var lastProcessed = -1
        while true {
            try await Task.sleep(for: .milliseconds(500))
            let counts = try results.counts()
            (totals.reportRows, totals.imageRows, totals.pixelRows, totals.deadLetters) = (counts.reports, counts.images, counts.pixels, counts.deadLetters)
            // A replay that failed stops the demo with its error rather than waiting forever.
            if summary == nil, let result = replay.result.withLock({ $0 }) { summary = try result.get() }
            if let summary {
                totals.reports = summary.reports
                totals.images = summary.images
                totals.sent = summary.reports + summary.images
            }
            let elapsed = Double((ContinuousClock.now - started).components.seconds)
            ProgressLine.show("demo: \(totals.processed) events processed (\(Int(Double(totals.processed) / max(elapsed, 1)))/s), \(totals.deadLetters) dead letters\(summary == nil ? ", replay running" : "")")
            if totals.processed != lastProcessed { lastProcessed = totals.processed; lastChange = .now }
            if summary != nil && totals.processed >= totals.sent { break }
            if summary != nil && ContinuousClock.now - lastChange > .seconds(60) {
                ProgressLine.finish("demo: nothing processed for 60 s; \(totals.sent - totals.processed) events missing")
                break
            }
        }
        totals.deadLetterCodes = try results.deadLettersByCode().map { "\($0.code): \($0.count)" }.joined(separator: ", ")
        totals.predictions = Dictionary(grouping: try results.decisionsByModel(), by: \.model).sorted { $0.key < $1.key }.map { model, rows in
            "\(model): " + rows.map { "\($0.count) \($0.decision)" }.joined(separator: ", ")
        }.joined(separator: "; ")
        let impressions = try results.summarizerAgreement()
        if impressions.generated > 0 {
            totals.impressions = "\(impressions.generated) generated; the labeler reads them differently from the radiologist's in \(impressions.disagreeing) of \(impressions.compared)"
        }
        let captions = try results.captionerAgreement()
        if captions.generated > 0 {
            totals.captions = "\(captions.generated) images; captioner and radiologist disagree on pneumonia in \(captions.disagreeing) of \(captions.compared) image–report pairs of one study"
        }
        return totals
    }
}
