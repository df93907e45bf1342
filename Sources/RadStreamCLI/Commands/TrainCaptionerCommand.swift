import ArgumentParser
import Captioning
import Foundation
import Models
import Reports
import Summarization
import TensorEngine
import Training

struct TrainCaptionerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "captioner",
        abstract: "Train the image → IMPRESSION captioner, with the summarizer distilled into it.",
        discussion: """
            Pairs each PneumoniaMNIST train image with a random IU training-split report of the same \
            finding (pneumonia images with reports whose IMPRESSION states pneumonia or a \
            consolidation, normal images with reports the labeler reads as "No Finding"; seeded) — \
            not the same patients. The captioner reads the image with the pneumonia classifier's \
            frozen trunk and writes with a decoder started from the summarizer's; it learns from the \
            paired impression (cross-entropy) and from the frozen summarizer reading the paired \
            FINDINGS (KL divergence at each step, at --temperature; --distillation-weight 0 is the \
            ablation without it). Measured on PneumoniaMNIST val (paired with test-split reports): \
            clinical efficacy (does the labeler read pneumonia in the generated impression exactly \
            when the image is pneumonia?) beside the classifier's accuracy, and ROUGE-L.

            Example: radstream train captioner --data ../shared/data/pneumoniamnist --reports ../shared/data/openi/reports --out /tmp/captioner
            """)

    @Option(help: "PneumoniaMNIST folder (train/ and val/).") var data: String
    @Option(help: "Folder of IU XML reports.") var reports: String
    @Option(help: "Output model folder.") var out: String
    @Option(help: "The pneumonia classifier whose trunk reads the images.") var classifier = "models/pneumonia"
    @Option(help: "The summarizer: vocabulary, decoder start and teacher.") var summarizer = "models/summarizer"
    @Option(help: "Epochs.") var epochs = 6
    @Option(help: "Weight of the distillation loss (0: without it).") var distillationWeight: Float = 1
    @Option(help: "Temperature of the distillation.") var temperature: Float = 2
    @Option(help: "Peak learning rate.") var learningRate: Float = 5e-4
    @Option(help: "Seed of initialisation and batching.") var seed: UInt64 = 1
    @Option(help: "Seed of the image–report pairing.") var pairingSeed: UInt64 = 1
    @Flag(inversion: .prefixedNo, help: "Start the decoder from the summarizer's weights (--no-decoder-from-summarizer: from random ones).")
    var decoderFromSummarizer = true
    @Option(help: "Threads the tensor engine uses.") var threads = 2

    func validate() throws {
        guard epochs > 0, distillationWeight >= 0, temperature > 0 else {
            throw ValidationError("--epochs and --temperature must be positive, --distillation-weight not negative")
        }
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let commit = Provenance.commit()
        let log = StandardError()
        guard let trunk = try ModelStore.classifiers(at: URL(filePath: classifier)).first(where: { $0.settings.classes.count == 2 }) else {
            throw CommandFailure("\(classifier) holds no two-class classifier")
        }
        let teacher = try Summarizer(contentsOf: URL(filePath: summarizer))
        let images = try TrainingData.load(data, side: trunk.settings.inputSide)
        let (allTraining, test) = try ReportSplit.pairs(in: requireFolder(URL(filePath: reports)))
        let trainingPairing = CaptionPairing(reports: allTraining.filter { !ReportSplit.isValidation($0.reportID) })
        let testPairing = CaptionPairing(reports: test)
        log.line("pairing \(images.training.count) training images with \(trainingPairing.pneumonia.count) pneumonia and \(trainingPairing.normal.count) normal training reports (not the same patients)")

        var options = CaptionerTrainingOptions()
        options.epochs = epochs
        options.distillationWeight = distillationWeight
        options.temperature = temperature
        options.learningRate = learningRate
        options.seed = seed
        options.pairingSeed = pairingSeed
        options.decoderFromSummarizer = decoderFromSummarizer
        let start = ContinuousClock.now
        var history: [CaptionerProgress] = []
        let captioner = try CaptionerTrainer(options: options).train(
            images: images.training, reports: trainingPairing.reports(for: images.training.images.map(\.label), seed: pairingSeed),
            trunk: trunk, summarizer: teacher) { progress in
            history.append(progress)
            log.line(String(format: "epoch %d/%d  cross-entropy %.4f  distillation %@  %.0f s", progress.epoch, epochs, progress.crossEntropy,
                            progress.distillation.map { String(format: "%.4f", $0) } ?? "off", progress.elapsedSeconds))
        }
        let seconds = Double((ContinuousClock.now - start).components.seconds)

        let validation = images.validation
        let labels = validation.images.map(\.label)
        let captions = captioner.caption(validation.images.map(\.pixels), decoding: .greedy)
        let efficacy = ClinicalEfficacy(captions: captions, labels: labels)
        let classifierAccuracy = ClassifierEvaluation(classifier: trunk, set: validation, intervals: false).accuracy
        let references = testPairing.reports(for: labels, seed: pairingSeed &+ 1).map(\.impression)
        let rougeL = Rouge.mean(zip(references, captions).map { Rouge.scores(reference: $0, prediction: $1) }).rougeL

        let directory = URL(filePath: out)
        try captioner.save(to: directory)
        try ManifestFile.write(CaptionerManifest(
            version: captioner.settings.version, createdAt: Date().formatted(.iso8601),
            command: Provenance.command, commit: commit,
            data: "\(data) (train: \(images.training.count) images, val: \(validation.count)); \(reports)",
            pairing: "each image with a random report of its label's kind, seed \(pairingSeed) (val: test-split reports, seed \(pairingSeed &+ 1)); not the same patients",
            pneumoniaReports: trainingPairing.pneumonia.count, normalReports: trainingPairing.normal.count, options: options,
            clinicalEfficacy: efficacy, classifierAccuracy: classifierAccuracy, rougeL: rougeL, trainingSeconds: seconds, history: history),
            to: directory)
        log.line(String(format: "val: clinical efficacy %.4f (sensitivity %.4f, specificity %.4f) beside the classifier's accuracy %.4f; ROUGE-L %.4f against paired impressions",
                        efficacy.accuracy, efficacy.sensitivity, efficacy.specificity, classifierAccuracy, rougeL))
        log.line("wrote \(directory.path) (version \(captioner.settings.version), \(Int(seconds)) s)")
    }
}
