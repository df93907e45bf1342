import Captioning
import Foundation
import Models
import Summarization

/// The models the daemon runs, loaded once when it starts: a model that cannot be loaded stops
/// the start with the reason, rather than leaving a daemon that silently classifies nothing.
struct ModelSet {
    let classifiers: [ImageClassifier]
    let summarizer: Summarizer?
    let captioner: Captioner?

    init(configuration: RadStreamConfiguration.ModelOptions) throws {
        let directory = configuration.directory.isEmpty ? ModelStore.defaultDirectory() : URL(filePath: configuration.directory)
        classifiers = try Self.classifiers(configuration, in: directory)
        if configuration.summarizeReports {
            do {
                summarizer = try Summarizer(contentsOf: directory.appending(path: "summarizer"))
            } catch {
                throw ConfigurationError("""
                    cannot load the summarizer (\(error)); set models.directory or RADSTREAM_MODELS, \\
                    or turn it off with models.summarizeReports=false
                    """)
            }
        } else {
            summarizer = nil
        }
        if configuration.captionImages {
            do {
                captioner = try Captioner(contentsOf: directory.appending(path: "captioner"))
            } catch {
                throw ConfigurationError("""
                    cannot load the captioner (\(error)); set models.directory or RADSTREAM_MODELS, \\
                    or turn it off with models.captionImages=false
                    """)
            }
        } else {
            captioner = nil
        }
    }

    private static func classifiers(_ configuration: RadStreamConfiguration.ModelOptions, in directory: URL) throws -> [ImageClassifier] {
        guard configuration.classifyImages else { return [] }
        let found: [ImageClassifier]
        do {
            found = try ModelStore.classifiers(at: directory)
        } catch {
            throw ConfigurationError("""
                cannot load the image classifiers (\(error)); set models.directory or RADSTREAM_MODELS, \\
                or turn them off with models.classifyImages=false
                """)
        }
        let wanted = configuration.classifiers
        if let missing = wanted.first(where: { name in !found.contains { $0.settings.name == name } }) {
            throw ConfigurationError("models.classifiers names \(missing), but \(directory.path) holds \(found.map(\.settings.name))")
        }
        return wanted.isEmpty ? found : found.filter { wanted.contains($0.settings.name) }
    }
}
