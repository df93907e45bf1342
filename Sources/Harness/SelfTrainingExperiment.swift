import ChildProcesses
import Foundation
import Models
import Pipeline
import Postgres
import Registry
import Replay
import SelfTraining
import Training

/// The self-training experiment end to end: for each label fraction, the classifier trained on
/// those labels alone; then the daemon (`serve`, a child process, on the local stack) with that
/// model and self-training on, the rest of `train/` streamed to it unlabeled in chunks, each
/// making one round due; and each round's record read back. Beside them, the shipped model.
public struct SelfTrainingExperiment {
    public struct Options: Sendable {
        public var data: URL
        public var fractions: [Double]
        /// Chunks the unlabeled rest is streamed in: one round each.
        public var chunks: Int
        /// The share of a core a round may take in the daemon.
        public var cpuShare: Double
        public var workDir: URL
        /// The `radstream` binary the daemon runs from.
        public var binary: String

        public init(data: URL, fractions: [Double], chunks: Int, cpuShare: Double, workDir: URL, binary: String) {
            (self.data, self.fractions, self.chunks, self.cpuShare, self.workDir, self.binary) = (data, fractions, chunks, cpuShare, workDir, binary)
        }
    }

    /// One line of the table.
    public struct Row: Codable, Sendable {
        public var labels: String
        public var model: String
        public var unlabeledImages: Int?
        public var auc: Double
        public var accuracy: Double
        public var expectedCalibrationError: Double
        public var decision: String?
        public var servedAUC: Double?
        public var servedAccuracy: Double?
        public var seconds: Double?
    }

    let options: Options

    public init(options: Options) {
        self.options = options
    }

    public func run(log: @escaping (String) -> Void) throws -> [Row] {
        let work = options.workDir
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let loaded = try TrainingData.load(options.data.path, side: 28)
        guard let shipped = try ModelStore.gatedClassifiers(at: ModelStore.defaultDirectory()).first(where: { $0.name == loaded.name }) else {
            throw HarnessError("the shipped models hold no classifier named \(loaded.name)")
        }
        let full = ClassifierEvaluation(classifier: shipped.classifier, set: loaded.validation, intervals: false)
        var rows: [Row] = []
        let stack = try LocalStack.start(directory: work.appending(path: "postgres"), partitions: 6, durable: false,
                                         log: { log("experiment: \($0)") })
        defer { try? stack.stop() }
        for fraction in options.fractions {
            rows += try run(fraction: fraction, data: loaded, stack: stack, log: log)
        }
        rows.append(Row(labels: "100%", model: "trained on every label (the shipped model, same recipe)", auc: full.auc,
                        accuracy: full.accuracy, expectedCalibrationError: full.expectedCalibrationError))
        return rows
    }

    private func run(fraction: Double, data: TrainingData, stack: LocalStack, log: (String) -> Void) throws -> [Row] {
        let (work, dataURL, chunks, cpuShare) = (options.workDir, options.data, options.chunks, options.cpuShare)
        let percent = "\(Int((fraction * 100).rounded()))%"
        let name = "selftrain_\(Int((fraction * 1000).rounded()))"
        var recipe = ClassifierTrainingOptions()
        recipe.labelFraction = fraction
        log("experiment: \(percent): training the classifier on \(percent) of the labels")
        let baseline = try ClassifierTrainer(name: data.name, options: recipe).train(training: data.training, validation: data.validation)
        let models = work.appending(path: "\(name)-models")
        try FileManager.default.createDirectory(at: models.appending(path: data.name), withIntermediateDirectories: true)
        try baseline.classifier.save(to: models.appending(path: "\(data.name)/\(ModelStore.weightsFileName)"))
        var rows = [Row(labels: percent, model: "trained on \(percent) alone (\(baseline.trainingImages) images)", auc: baseline.validation.auc,
                        accuracy: baseline.validation.accuracy, expectedCalibrationError: baseline.validation.expectedCalibrationError,
                        seconds: baseline.seconds)]
        log("experiment: \(percent): AUC \(baseline.validation.auc), accuracy \(baseline.validation.accuracy)")

        // The unlabeled rest of train/, in chunks.
        let labeled = Set(data.training.fraction(fraction, seed: recipe.seed).images.map(\.file))
        let rest = data.training.images.map(\.file).filter { !labeled.contains($0) }
        let chunkSize = rest.count / chunks
        let (isolated, database) = try stack.isolatedStream(name, partitions: 6)
        var configuration = isolated
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
        configuration.selfTraining.labelSeed = recipe.seed
        configuration.selfTraining.newImages = chunkSize
        configuration.selfTraining.checkSeconds = 2
        configuration.selfTraining.cpuShare = cpuShare
        let daemon = try LocalStack.startDaemon(options.binary, configuration: configuration, name: name, in: work)
        defer {
            kill(daemon, SIGTERM)
            _ = ChildProcess.wait(daemon)
        }

        let source = ReplaySource(transport: .inline, withholdLabels: true)
        let producer = try stack.producer()
        for chunk in 1...chunks {
            let files = chunk == chunks ? rest[((chunk - 1) * chunkSize)...] : rest[((chunk - 1) * chunkSize)..<(chunk * chunkSize)]
            log("experiment: \(percent): streaming chunk \(chunk)/\(chunks): \(files.count) images without labels")
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
                              log: (String) -> Void) throws -> Row {
        let started = ContinuousClock.now
        var lastShown = ContinuousClock.now
        let rounds = PostgresRoundLog(connection: database)
        while try rounds.count() < number {
            guard kill(daemon, 0) == 0 else { throw HarnessError("the daemon stopped; see its log in \(options.workDir.path)") }
            if ContinuousClock.now - started > .seconds(3600) { throw HarnessError("round \(number) did not end within an hour") }
            if ContinuousClock.now - lastShown > .seconds(15) {
                let stored = try database.execute("SELECT count(*) FROM images").scalarInt ?? 0
                log("experiment: \(label): waiting for round \(number): \(stored) images stored, \((ContinuousClock.now - started).components.seconds) s")
                lastShown = ContinuousClock.now
            }
            Thread.sleep(forTimeInterval: 1)
        }
        guard let round = try rounds.round(number) else { throw HarnessError("round \(number) is not in the log") }
        guard round.decision != "failed", let candidate = round.candidateValidation, let teacher = round.teacherValidation else {
            throw HarnessError("round \(number) failed: \(round.reason)")
        }
        let promoted = round.decision == "promoted"
        log("experiment: \(label): round \(number): \(round.decision): \(round.reason)")
        return Row(labels: label, model: "after self-training round \(number)", unlabeledImages: round.unlabeledImages,
                   auc: candidate.auc, accuracy: candidate.accuracy, expectedCalibrationError: candidate.expectedCalibrationError,
                   decision: round.decision, servedAUC: promoted ? candidate.auc : teacher.auc,
                   servedAccuracy: promoted ? candidate.accuracy : teacher.accuracy, seconds: round.seconds)
    }
}
