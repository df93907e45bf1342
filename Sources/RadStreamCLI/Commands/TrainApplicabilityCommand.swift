import ArgumentParser
import Foundation
import Models
import TensorEngine
import Training

struct TrainApplicabilityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "applicability",
        abstract: "Fit a classifier's applicability gate: which films it is fit to read at all.",
        discussion: """
            Reads the model folder's classifier and, from its manifest, the data and split it was \
            trained on (--data overrides the folder). Fits the gate on the training films: the \
            classifier's stage features (every stage's maps averaged over the image's quadrants, or \
            over the whole image when the training set is too small for that many features), their \
            class means and shared covariance, and the Mahalanobis distances of the training films \
            measured out of fold (--folds), \
            which turn a film's distance into its score (the share of training films lying \
            farther out). A film scoring below --minimum-score, or whose pixels have less contrast \
            than --minimum-pixel-spread, is not applicable. \
            With --refuse DATA (repeatable), a population check is trained as well: a small CNN of \
            its own telling the model's training films from DATA's training split (a population \
            the model was not made for: adult films for the paediatric model, PneumoniaMNIST's \
            children for the COVID-19 model), written beside the gate as \
            applicability-population.safetensors; it also learns the model's own films turned the \
            wrong way. A film whose probability of the model's own population is below 0.5 (lower \
            where the own training films, predicted out of fold, would lose more than 1% to it) is \
            not applicable. DATA's validation split, never trained on, measures it. Writes \
            applicability.safetensors and \
            applicability.json (data, command, commit, options, the share applicable in each fold \
            and on the validation films) into the model folder; classify then reports \
            "applicable" and "applicability" per model.

            Example: radstream train applicability --model models/pneumonia --refuse ../shared/data/covid
            """)

    @Option(help: "The model folder (holding model.safetensors and manifest.json).") var model: String
    @Option(help: "Data folder (default: the one the manifest records).") var data: String?
    @Option(help: "Folds for the out-of-fold reference distances.") var folds = 5
    @Option(help: "Films scoring below this are not applicable (the share of training films refused by construction).")
    var minimumScore: Float = 0.01
    @Option(help: "Films whose pixels' standard deviation (0-255) is below this are not applicable.") var minimumPixelSpread: Float = 4
    @Option(help: "A data folder of films the model was not made for (its training split is fitted on); repeatable.")
    var refuse: [String] = []
    @Option(help: "Threads the tensor engine uses.") var threads = 2

    func validate() throws {
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2") }
        guard minimumScore > 0, minimumScore < 1 else { throw ValidationError("--minimum-score must be in (0, 1)") }
    }

    /// What `applicability.json` records.
    struct Manifest: Codable {
        var model: String
        var modelVersion: String
        var createdAt: String
        var command: String
        var commit: String
        var data: String
        var trainingImages: Int
        var options: ApplicabilityFitting.Options
        /// The share of each fold's films applicable under the gate fitted without them.
        var foldShares: [Double]
        var foldShareMean: Double
        var foldShareSpread: Double
        var validationImages: Int
        var validationShareApplicable: Double
        var populationCheck: PopulationRecord?
    }

    /// What the population check was fitted on, and how it does on films it was not fitted on.
    struct PopulationRecord: Codable {
        var refuses: String
        var options: ClassifierTrainingOptions
        /// The floor on the own class's probability, from the own films' out-of-fold predictions.
        var minimumOwnProbability: Float
        /// Films of the model's own collection whose class is unknown, trained on as its population.
        var unlabelledOwnImages: Int
        var refusedTrainingImages: Int
        /// The refused collections' validation splits, and the share of them not applicable.
        var refusedValidationImages: Int
        var refusedValidationShareRefused: Double
    }

    func run() throws {
        EngineWorkers.setCount(threads)
        let commit = Provenance.commit()  // the tree as fitting starts, before the gate is written
        let log = StandardError()
        let folder = URL(filePath: model)
        guard let classifier = try ModelStore.classifiers(at: folder).first else { throw CommandFailure("no classifier at \(model)") }
        let trained = try ModelManifest.read(from: folder)
        let source = data ?? trained.data.source
        log.line("reading \(source) at \(classifier.settings.inputSide)×\(classifier.settings.inputSide) (the split of \(model)'s manifest)")
        let loaded = try TrainingData.load(source, side: classifier.settings.inputSide, validationShare: trained.data.validationShare,
                                           splitSeed: trained.data.splitSeed)
        var options = ApplicabilityFitting.Options()
        options.folds = folds
        options.minimumScore = minimumScore
        options.minimumPixelSpread = minimumPixelSpread
        let started = ContinuousClock.now
        var (gate, foldShares) = ApplicabilityFitting.fit(classifier, training: loaded.training, options: options)
        var population: PopulationRecord?
        if !refuse.isEmpty {
            let side = classifier.settings.inputSide
            let refused = try refuse.map { try TrainingData.load($0, side: side) }
            let others = refused.flatMap { $0.training.images.map(\.pixels) }
            let heldOthers = refused.flatMap { $0.validation.images.map(\.pixels) }
            log.line("population check: \(loaded.training.count) own training films and \(loaded.unlabelled.count) unlabelled ones against \(others.count) of \(refuse.joined(separator: ", "))")
            let fitting = PopulationCheckFitting.options()
            let check = try PopulationCheckFitting.train(
                own: loaded.training.images.map(\.pixels) + loaded.unlabelled.map(\.pixels), others: others, heldOwn: loaded.validation.images.map(\.pixels),
                heldOthers: heldOthers, side: side, refuses: "the training splits of \(refuse.joined(separator: ", "))",
                options: fitting) { stage, progress in
                log.line(String(format: "population check, %@: epoch %d/%d  loss %.4f", stage, progress.epoch, progress.epochs,
                                progress.trainingLoss))
            }
            gate = gate.with(populationCheck: check)
            let heldFeatures = ApplicabilityFitting.pooledFeatures(of: classifier, heldOthers, pooling: gate.pooling)
            let refusedShare = Double(gate.assess(pixels: heldOthers, features: heldFeatures).filter { !$0.applicable }.count)
                / Double(max(heldOthers.count, 1))
            population = PopulationRecord(refuses: check.refuses, options: fitting, minimumOwnProbability: check.minimumOwnProbability,
                                          unlabelledOwnImages: loaded.unlabelled.count, refusedTrainingImages: others.count,
                                          refusedValidationImages: heldOthers.count, refusedValidationShareRefused: refusedShare)
            log.line(String(format: "population check: %.4f of the %d held-out films of %@ refused", refusedShare, heldOthers.count,
                            refuse.joined(separator: ", ")))
        }
        let validation = ApplicabilityFitting.pooledFeatures(of: classifier, loaded.validation.images.map(\.pixels), pooling: gate.pooling)
        let applicable = gate.assess(pixels: loaded.validation.images.map(\.pixels), features: validation).filter(\.applicable).count
        try gate.save(to: folder.appending(path: ApplicabilityGate.fileName))
        let mean = foldShares.reduce(0, +) / Double(foldShares.count)
        let spread = (foldShares.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(foldShares.count - 1, 1))).squareRoot()
        let manifest = Manifest(
            model: classifier.settings.name, modelVersion: classifier.settings.version, createdAt: Date().formatted(.iso8601),
            command: Provenance.command,
            commit: commit, data: source, trainingImages: loaded.training.count, options: options,
            foldShares: foldShares, foldShareMean: mean, foldShareSpread: spread, validationImages: loaded.validation.count,
            validationShareApplicable: Double(applicable) / Double(max(loaded.validation.count, 1)), populationCheck: population)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(to: folder.appending(path: "applicability.json"))
        log.line(String(format: "%@ %@: %d features (%@ pooling); applicable in the folds %.4f ± %.4f, on the %d validation films %.4f; %.1f s",
                        classifier.settings.name, classifier.settings.version, gate.featureCount, gate.pooling.rawValue, mean, spread,
                        loaded.validation.count, manifest.validationShareApplicable,
                        Double((ContinuousClock.now - started).components.seconds)))
        log.line("wrote \(folder.path)/\(ApplicabilityGate.fileName) and applicability.json")
    }
}
