import Captioning
import Diffusion
import Foundation
import Models
import Summarization

/// The models the daemon runs, loaded once when it starts: a model that cannot be loaded stops
/// the start with the reason, rather than leaving a daemon that silently classifies nothing.
struct ModelSet {
    /// The image classifiers, each with its version's applicability gate where it has one.
    let classifiers: [GatedClassifier]
    let summarizer: Summarizer?
    let captioner: Captioner?
    /// The joint diffusion model the counterfactual worker explains positive calls with.
    let explainer: JointDiffusionModel?

    init(configuration: RadStreamConfiguration.ModelOptions, counterfactuals: RadStreamConfiguration.Counterfactuals) throws {
        let directory = configuration.directory.isEmpty ? ModelStore.defaultDirectory() : URL(filePath: configuration.directory)
        classifiers = try Self.classifiers(configuration, in: directory)
        summarizer = try Self.load("summarizer", if: configuration.summarizeReports, switch: "models.summarizeReports") {
            try Summarizer(contentsOf: directory.appending(path: "summarizer"))
        }
        captioner = try Self.load("captioner", if: configuration.captionImages, switch: "models.captionImages") {
            try Captioner(contentsOf: directory.appending(path: "captioner"))
        }
        explainer = try Self.load("counterfactual explainer", if: counterfactuals.enabled, switch: "counterfactuals.enabled") {
            try counterfactuals.validate()
            let model = counterfactuals.model.hasPrefix("/") ? URL(filePath: counterfactuals.model) : directory.appending(path: counterfactuals.model)
            return try JointDiffusionModel(contentsOf: model)
        }
    }

    /// The model `load` reads when `wanted`, nil otherwise; a failure says what to set.
    private static func load<Model>(_ name: String, if wanted: Bool, switch key: String, _ load: () throws -> Model) throws -> Model? {
        guard wanted else { return nil }
        do {
            return try load()
        } catch {
            throw ConfigurationError("""
                cannot load the \(name) (\(error)); set models.directory or RADSTREAM_MODELS, \
                or turn it off with \(key)=false
                """)
        }
    }

    private static func classifiers(_ configuration: RadStreamConfiguration.ModelOptions, in directory: URL) throws -> [GatedClassifier] {
        guard configuration.classifyImages else { return [] }
        let found: [GatedClassifier]
        do {
            found = try ModelStore.gatedClassifiers(at: directory)
        } catch {
            throw ConfigurationError("""
                cannot load the image classifiers (\(error)); set models.directory or RADSTREAM_MODELS, \
                or turn them off with models.classifyImages=false
                """)
        }
        let wanted = configuration.classifiers
        if let missing = wanted.first(where: { name in !found.contains { $0.name == name } }) {
            throw ConfigurationError("models.classifiers names \(missing), but \(directory.path) holds \(found.map(\.name))")
        }
        return wanted.isEmpty ? found : found.filter { wanted.contains($0.name) }
    }
}
