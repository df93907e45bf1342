import Foundation
import Models

/// The models the daemon runs, loaded once when it starts: a model that cannot be loaded stops
/// the start with the reason, rather than leaving a daemon that silently classifies nothing.
struct ModelSet {
    let classifiers: [ImageClassifier]

    init(configuration: RadStreamConfiguration.ModelOptions) throws {
        guard configuration.classifyImages else {
            classifiers = []
            return
        }
        let directory = configuration.directory.isEmpty ? ModelStore.defaultDirectory() : URL(filePath: configuration.directory)
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
        classifiers = wanted.isEmpty ? found : found.filter { wanted.contains($0.settings.name) }
    }
}
