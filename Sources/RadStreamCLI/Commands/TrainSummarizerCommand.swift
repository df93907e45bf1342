import ArgumentParser
import Foundation
import Models
import Reports
import Summarization
import TensorEngine

struct TrainSummarizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summarizer",
        abstract: "Train the FINDINGS → IMPRESSION summarizer (a transformer with a copy head) on IU reports.",
        discussion: """
            --reports is a folder of IU XML reports; those with both FINDINGS and IMPRESSION are used. \
            Report ids divisible by 5 are the test split and are never trained on; of the rest, ids \
            equal to 1 modulo 20 are held out to choose the epoch (greedy ROUGE-L). The vocabulary is \
            built from the training reports. At the end the model is measured on the test split \
            (greedy, beam search and minimum Bayes risk) beside the two baselines built from the same training reports. \
            --out receives model.safetensors, vocabulary.txt and manifest.json (data, command, commit, \
            options, figures, history). Progress goes to standard error.

            With --fold F (of --folds K, default 5) the model is one fold of the cross-validation \
            instead: it trains on every report whose id modulo K is not F, keeps its last epoch (no \
            choice is made on held-out reports), and is measured on fold F; fold 0 of 5 is the test split, \
            and the shipped summarizer is that fold's model (the procedure the cross-validation measures).

            Example: radstream train summarizer --reports ../shared/data/openi/reports --out /tmp/summarizer
            Example: radstream train summarizer --reports ../shared/data/openi/reports --fold 0 --epochs 20 --threads 1 --out models/summarizer
            """)

    @Option(help: "Folder of IU XML reports.") var reports: String
    @Option(help: "Output model folder.") var out: String
    @Option(help: "Epochs.") var epochs = 30
    @Option(help: "Batch size.") var batchSize = 32
    @Option(help: "Peak learning rate (AdamW, warm-up, cosine decay).") var learningRate: Float = 1e-3
    @Option(help: "Decoupled weight decay.") var weightDecay: Float = 0.01
    @Option(help: "Dropout.") var dropout: Float = 0.1
    @Option(help: "Share of FINDINGS words replaced by <unk> in training.") var wordDropout: Float = 0
    @Option(help: "Label smoothing of the vocabulary distribution.") var labelSmoothing: Float = 0
    @Option(help: "Epochs of denoising (text infilling on the training reports' sentences) before summarizing; 0 for none.")
    var pretrainingEpochs = 0
    @Option(help: "Share of a passage's tokens cut out in denoising.") var pretrainingMaskRate: Float = 0.3
    @Option(help: "Seed of initialisation, batching and dropout.") var seed: UInt64 = 1
    @Option(help: "Model width.") var width = 128
    @Option(help: "Attention heads.") var heads = 4
    @Option(help: "Encoder and decoder layers (each).") var layers = 2
    @Option(help: "Inner width of the feed-forward blocks.") var feedForward = 256
    @Option(help: "Training occurrences a word needs to enter the vocabulary.") var minimumWordCount = 2
    @Option(help: "Beam width of the test measurement beside greedy decoding.") var beamWidth = 4
    @Option(help: "Samples of the minimum-Bayes-risk test measurement.") var samples = 16
    @Option(help: "Threads the tensor engine uses.") var threads = 2
    @Option(help: "Train one cross-validation fold's model: held out are the reports whose id modulo --folds is this.") var fold: Int?
    @Option(help: "Folds of the cross-validation that --fold names.") var folds = 5

    func validate() throws {
        guard pretrainingEpochs >= 0, (0..<1).contains(pretrainingMaskRate) else {
            throw ValidationError("--pretraining-epochs must not be negative, --pretraining-mask-rate in [0, 1)")
        }
        guard epochs > 0, batchSize > 0 else { throw ValidationError("--epochs and --batch-size must be positive") }
        guard width > 0, heads > 0, width % heads == 0 else { throw ValidationError("--heads must divide --width") }
        guard layers > 0, feedForward > 0, minimumWordCount > 0, beamWidth > 0 else {
            throw ValidationError("--layers, --feed-forward, --minimum-word-count and --beam-width must be positive")
        }
        if let fold { guard folds >= 2, (0..<folds).contains(fold) else { throw ValidationError("--fold must be in 0..<--folds (at least 2)") } }
        guard (0..<1).contains(dropout), (0..<1).contains(wordDropout), (0..<1).contains(labelSmoothing) else {
            throw ValidationError("--dropout, --word-dropout and --label-smoothing must be in [0, 1)")
        }
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let commit = Provenance.commit()  // the tree as training starts
        let log = StandardError()
        let folder = try requireFolder(URL(filePath: reports))
        let allTraining: [FindingsImpressionPair], test: [FindingsImpressionPair], split: String
        if let fold {
            (allTraining, test) = ReportFolds(count: folds).split(try ReportSplit.allPairs(in: folder), id: \.reportID, holdingOut: fold)
            split = "IU reports with FINDINGS and IMPRESSION; cross-validation fold \(fold) of \(folds): held out (test): id % \(folds) == \(fold); training: the rest; the last epoch kept"
        } else {
            (allTraining, test) = try ReportSplit.pairs(in: folder)
            split = "IU reports with FINDINGS and IMPRESSION; test: id % 5 == 0; validation (epoch choice): id % 20 == 1; training: the rest"
        }
        let training = fold == nil ? allTraining.filter { !ReportSplit.isValidation($0.reportID) } : allTraining
        let validation = fold == nil ? allTraining.filter { ReportSplit.isValidation($0.reportID) } : []
        log.line("reports with both sections: \(training.count) training, \(validation.count) validation, \(test.count) test")

        var options = SummarizerTrainingOptions()
        options.epochs = epochs
        options.batchSize = batchSize
        options.learningRate = learningRate
        options.weightDecay = weightDecay
        options.dropout = dropout
        options.wordDropout = wordDropout
        options.labelSmoothing = labelSmoothing
        options.seed = seed
        options.width = width
        options.heads = heads
        options.layers = layers
        options.feedForward = feedForward
        options.minimumWordCount = minimumWordCount
        options.pretrainingEpochs = pretrainingEpochs
        options.pretrainingMaskRate = pretrainingMaskRate
        let start = ContinuousClock.now
        var history: [SummarizerManifest.Epoch] = [], pretrainingHistory: [SummarizerManifest.Epoch] = []
        let summarizer = try SummarizerTrainer(options: options).train(training: training, validation: validation) { progress in
            guard !progress.isPretraining else {
                pretrainingHistory.append(.init(progress))
                return log.line(String(format: "denoising epoch %d/%d  loss %.4f  %.0f s", progress.epoch, progress.epochs,
                                       progress.trainingLoss, progress.elapsedSeconds))
            }
            history.append(.init(progress))
            log.line(String(format: "epoch %d/%d  loss %.4f  val ROUGE-L %.4f%@  %.0f s, ~%.0f s left",
                            progress.epoch, progress.epochs, progress.trainingLoss, progress.validationRougeL ?? .nan,
                            progress.isBest ? "  (best)" : "", progress.elapsedSeconds, progress.remainingSeconds))
        }
        let seconds = Double((ContinuousClock.now - start).components.seconds)
        log.line("measuring on the \(test.count) test reports (greedy, beam \(beamWidth), MBR over \(samples) samples)")
        let greedy = SummarizerEvaluation.rouge(of: summarizer, on: test, decoding: .greedy)
        let beam = SummarizerEvaluation.rouge(of: summarizer, on: test, decoding: .beam(width: beamWidth))
        let mbr = SummarizerEvaluation.rouge(of: summarizer, on: test, decoding: .minimumBayesRisk(samples: samples))
        // The baselines see all the training reports, validation ones included: they choose nothing.
        let baselines = SummarizerEvaluation.baselines(training: allTraining, test: test)

        let directory = URL(filePath: out)
        try summarizer.save(to: directory)
        var manifest = SummarizerManifest(
            version: summarizer.version, weights: ModelStore.weightsFileName, vocabulary: Summarizer.vocabularyFileName,
            vocabularySize: summarizer.vocabulary.count, createdAt: Date().formatted(.iso8601),
            command: Provenance.command, commit: commit,
            data: .init(source: reports, split: split,
                        trainingReports: training.count, validationReports: validation.count, testReports: test.count),
            options: options, parameters: summarizer.model.parameterCount, bestEpoch: summarizer.bestEpoch,
            test: ["greedy": .init(greedy), "beam\(beamWidth)": .init(beam), "mbr\(samples)": .init(mbr)], baselines: baselines.mapValues { .init($0) },
            trainingSeconds: seconds, machine: "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(threads) engine threads",
            history: history)
        if !pretrainingHistory.isEmpty { manifest.pretrainingHistory = pretrainingHistory }
        manifest.choices = ["epoch": fold == nil
            ? "the best greedy ROUGE-L on the validation reports (id % 20 == 1), never trained on"
            : "none: the last of --epochs, the end of the cosine schedule (no held-out report chooses it)"]
        try manifest.write(to: directory)
        log.line(String(format: "test ROUGE-1/2/L: greedy %.4f/%.4f/%.4f, beam %d %.4f/%.4f/%.4f, MBR %d %.4f/%.4f/%.4f; baselines ROUGE-L: most frequent %.4f, TF-IDF nearest %.4f",
                        greedy.rouge1, greedy.rouge2, greedy.rougeL, beamWidth, beam.rouge1, beam.rouge2, beam.rougeL,
                        samples, mbr.rouge1, mbr.rouge2, mbr.rougeL,
                        baselines["mostFrequentImpression"]!.rougeL, baselines["nearestFindingsTFIDF"]!.rougeL))
        log.line("wrote \(directory.path) (version \(summarizer.version), best epoch \(summarizer.bestEpoch), \(Int(seconds)) s)")
    }
}
