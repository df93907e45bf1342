import ArgumentParser
import ChildProcesses
import Events
import Foundation
import Harness
import Models
import Pipeline
import Postgres
import Registry
import Replay
import SelfTraining
import TensorEngine
import Training

struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Experiments that measure what RadStream's models gain, reproducible by one command.",
        subcommands: [SelfTrainingExperimentCommand.self, DiffusionExperimentCommand.self])
}

/// Few labels, then the rest of the images unlabeled through the daemon: does self-training in
/// the stream climb toward the model trained on every label?
struct SelfTrainingExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "self-training",
        abstract: "Start from a few labels, stream the rest unlabeled through the daemon, and measure each self-training round.",
        discussion: """
            For each label fraction (5% and 10% by default): trains the classifier on that share of \
            PneumoniaMNIST train/ exactly as `train classifier --label-fraction F` does (seed 1); \
            starts the daemon (`serve`, a child process) on the embedded broker and a private \
            PostgreSQL with that model and self-training on (the same labels, selfTraining.labelFraction \
            F); sends the rest of train/ as image events without labels (as `replay --withhold-labels` \
            makes them) in --chunks chunks, each making one round due (selfTraining.newImages is the \
            chunk size); after each round, reads its record: the candidate's AUC and accuracy on \
            val/, the gate's decision, and the served model's figures. Beside them: the model of that \
            fraction alone, and the shipped model, trained by the same recipe on every label. \
            Prints a Markdown table; --out writes the rows as JSON.

            Example: radstream experiment self-training --label-fractions 0.05,0.10
            """)

    @Option(help: "PneumoniaMNIST folder (train/ and val/).") var data = "../shared/data/pneumoniamnist"
    @Option(help: "Label fractions, comma-separated.") var labelFractions = "0.05,0.10"
    @Option(help: "Chunks the unlabeled rest is streamed in: one round each.") var chunks = 3
    @Option(help: "Share of a core a round may take in the daemon (the stream is idle while it trains).") var cpuShare = 1.0
    @Option(help: "Where the experiment keeps its PostgreSQL cluster, models and logs (recreated).") var workDir = "var/experiment"
    @Option(help: "Write the rows as JSON to this file.") var out: String?
    @Option(help: "Threads the tensor engine uses for the baselines.") var threads = 2

    func validate() throws {
        guard fractions != nil else { throw ValidationError("--label-fractions must be numbers in (0, 1), e.g. 0.05,0.10") }
        guard chunks >= 1 else { throw ValidationError("--chunks must be at least 1") }
        guard cpuShare > 0, cpuShare <= 1 else { throw ValidationError("--cpu-share must be in (0, 1]") }
    }

    private var fractions: [Double]? {
        let values = labelFractions.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        return !values.isEmpty && values.allSatisfy({ $0 > 0 && $0 < 1 }) ? values : nil
    }

    /// One line of the table.
    struct Row: Codable {
        var labels: String
        var model: String
        var unlabeledImages: Int?
        var auc: Double
        var accuracy: Double
        var expectedCalibrationError: Double
        var decision: String?
        var servedAUC: Double?
        var servedAccuracy: Double?
        var seconds: Double?
    }

    func run() throws {
        BLAS.setThreads(threads)
        let log = StandardError()
        let dataURL = URL(filePath: data).standardizedFileURL
        let work = URL(filePath: workDir).standardizedFileURL
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let loaded = try TrainingData.load(dataURL.path, side: 28)
        let shipped = try SelfTrainCommand.servedClassifier(named: loaded.name, directory: "")
        let full = ClassifierEvaluation(classifier: shipped.classifier, set: loaded.validation, intervals: false)
        var rows: [Row] = []

        let stack = try LocalStack.start(directory: work.appending(path: "postgres"), partitions: 6, durable: false, log: { log.line("experiment: \($0)") })
        defer { try? stack.stop() }
        for fraction in fractions! {
            rows += try run(fraction: fraction, data: loaded, dataURL: dataURL, stack: stack, work: work, log: log)
        }
        rows.append(Row(labels: "100%", model: "trained on every label (the shipped model, same recipe)", auc: full.auc,
                        accuracy: full.accuracy, expectedCalibrationError: full.expectedCalibrationError))

        print("| labels | model | unlabeled images seen | AUC | accuracy | ECE | gate | served AUC | served accuracy |")
        print("|---|---|---|---|---|---|---|---|---|")
        for row in rows {
            func figure(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "" }
            print("| \(row.labels) | \(row.model) | \(row.unlabeledImages.map(String.init) ?? "") | \(figure(row.auc)) | "
                  + "\(figure(row.accuracy)) | \(figure(row.expectedCalibrationError)) | \(row.decision ?? "") | "
                  + "\(figure(row.servedAUC)) | \(figure(row.servedAccuracy)) |")
        }
        if let out {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(rows).write(to: URL(filePath: out))
        }
    }

    private func run(fraction: Double, data: TrainingData, dataURL: URL, stack: LocalStack, work: URL,
                     log: StandardError) throws -> [Row] {
        let percent = "\(Int((fraction * 100).rounded()))%"
        let name = "selftrain_\(Int((fraction * 1000).rounded()))"
        var options = ClassifierTrainingOptions()
        options.labelFraction = fraction
        log.line("experiment: \(percent): training the classifier on \(percent) of the labels")
        let baseline = try ClassifierTrainer(name: data.name, options: options).train(training: data.training, validation: data.validation)
        let models = work.appending(path: "\(name)-models")
        try FileManager.default.createDirectory(at: models.appending(path: data.name), withIntermediateDirectories: true)
        try baseline.classifier.save(to: models.appending(path: "\(data.name)/\(ModelStore.weightsFileName)"))
        var rows = [Row(labels: percent, model: "trained on \(percent) alone (\(baseline.trainingImages) images)", auc: baseline.validation.auc,
                        accuracy: baseline.validation.accuracy, expectedCalibrationError: baseline.validation.expectedCalibrationError,
                        seconds: baseline.seconds)]
        log.line("experiment: \(percent): AUC \(baseline.validation.auc), accuracy \(baseline.validation.accuracy)")

        // The unlabeled rest of train/, in chunks.
        let labeled = Set(data.training.fraction(fraction, seed: options.seed).images.map(\.file))
        let rest = data.training.images.map(\.file).filter { !labeled.contains($0) }
        let chunkSize = rest.count / chunks
        var configuration = stack.configuration
        configuration.kafka.imageTopic = "\(name).images"
        configuration.kafka.reportTopic = "\(name).reports"
        configuration.kafka.groupID = name
        configuration.models.directory = models.path
        configuration.models.classifiers = [data.name]
        configuration.models.summarizeReports = false
        configuration.models.captionImages = false
        // Its models folder holds the baseline classifier alone; the experiment measures self-training.
        configuration.counterfactuals.enabled = false
        configuration.selfTraining.enabled = true
        configuration.selfTraining.model = data.name
        configuration.selfTraining.labeledData = dataURL.path
        configuration.selfTraining.labelFraction = fraction
        configuration.selfTraining.labelSeed = options.seed
        configuration.selfTraining.newImages = chunkSize
        configuration.selfTraining.checkSeconds = 2
        configuration.selfTraining.cpuShare = cpuShare
        for topic in configuration.topics {
            try stack.broker.createTopic(topic, partitions: 6)
            try stack.broker.createTopic(configuration.deadLetterTopic(for: topic), partitions: 6)
        }
        try PostgresConnection(stack.postgres.conninfo).execute("CREATE DATABASE \(name)")
        configuration.postgres.conninfo = stack.postgres.conninfo.replacingOccurrences(of: "dbname=radstream", with: "dbname=\(name)")
        let database = try PostgresConnection(configuration.postgres.conninfo)
        try DatabaseMigrations.apply(on: database)
        let configFile = work.appending(path: "\(name).json")
        try JSONEncoder().encode(configuration).write(to: configFile)
        let daemon = try ChildProcess.spawn(StreamBenchmarkCommand.binary, ["serve", "--config", configFile.path],
                                            outputPath: work.appending(path: "\(name).log").path)
        defer {
            kill(daemon, SIGTERM)
            _ = ChildProcess.wait(daemon)
        }

        let source = ReplaySource(transport: .inline, withholdLabels: true)
        let producer = try stack.producer()
        for chunk in 1...chunks {
            let files = chunk == chunks ? rest[((chunk - 1) * chunkSize)...] : rest[((chunk - 1) * chunkSize)..<(chunk * chunkSize)]
            log.line("experiment: \(percent): streaming chunk \(chunk)/\(chunks): \(files.count) images without labels")
            for file in files {
                let event = try source.imageEvent(file: dataURL.appending(path: "train/\(file)"), labels: nil)
                try producer.send(topic: configuration.kafka.imageTopic, key: Array(event.studyID.utf8), value: event.encoded())
            }
            try producer.flush(timeout: .seconds(120))
            let round = try waitForRound(chunk, on: database, daemon: daemon, label: percent, log: log)
            rows.append(round)
        }
        return rows
    }

    /// Waits for the daemon to record round `number`, showing progress, and reads it.
    private func waitForRound(_ number: Int, on database: PostgresConnection, daemon: pid_t, label: String,
                              log: StandardError) throws -> Row {
        let started = ContinuousClock.now
        var lastShown = ContinuousClock.now
        let rounds = PostgresRoundLog(connection: database)
        while try rounds.count() < number {
            guard kill(daemon, 0) == 0 else { throw ValidationError("the daemon stopped; see its log in \(workDir)") }
            if ContinuousClock.now - started > .seconds(3600) { throw ValidationError("round \(number) did not end within an hour") }
            if ContinuousClock.now - lastShown > .seconds(15) {
                let stored = try database.execute("SELECT count(*) FROM images").scalarInt ?? 0
                log.line("experiment: \(label): waiting for round \(number): \(stored) images stored, \(Int(BenchmarkClock.seconds(ContinuousClock.now - started))) s")
                lastShown = ContinuousClock.now
            }
            Thread.sleep(forTimeInterval: 1)
        }
        guard let round = try rounds.round(number) else { throw ValidationError("round \(number) is not in the log") }
        guard round.decision != "failed", let candidate = round.candidateValidation, let teacher = round.teacherValidation else {
            throw ValidationError("round \(number) failed: \(round.reason)")
        }
        let promoted = round.decision == "promoted"
        log.line("experiment: \(label): round \(number): \(round.decision): \(round.reason)")
        return Row(labels: label, model: "after self-training round \(number)", unlabeledImages: round.unlabeledImages,
                   auc: candidate.auc, accuracy: candidate.accuracy, expectedCalibrationError: candidate.expectedCalibrationError,
                   decision: round.decision, servedAUC: promoted ? candidate.auc : teacher.auc,
                   servedAccuracy: promoted ? candidate.accuracy : teacher.accuracy, seconds: round.seconds)
    }
}
