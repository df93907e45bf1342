import Models
import Synchronization

/// The image classifiers the daemon serves, by name, and the new versions waiting to replace
/// them. The watcher offers a version it heard of; the consumer takes the waiting ones between
/// two batches, so that a batch is classified by one version from its first image to its last.
public final class ServedModels: Sendable {
    private struct State {
        var served: [String: ImageClassifier]
        var waiting: [String: ImageClassifier] = [:]
    }

    private let state: Mutex<State>

    public init(_ classifiers: [ImageClassifier]) {
        state = Mutex(State(served: Dictionary(uniqueKeysWithValues: classifiers.map { ($0.settings.name, $0) })))
    }

    public var names: [String] { state.withLock { $0.served.keys.sorted() } }

    /// The version served now of a model.
    public func classifier(named name: String) -> ImageClassifier? { state.withLock { $0.served[name] } }

    /// The version a model will serve once the waiting ones are taken.
    public func latestVersion(of name: String) -> String? {
        state.withLock { ($0.waiting[name] ?? $0.served[name])?.settings.version }
    }

    /// Queues a version to serve (replacing any other waiting for its model); a version already
    /// served or waiting, or of a model not served, is ignored. Returns whether it was queued.
    @discardableResult
    public func offer(_ classifier: ImageClassifier) -> Bool {
        state.withLock { state in
            let name = classifier.settings.name
            guard let served = state.served[name],
                  (state.waiting[name] ?? served).settings.version != classifier.settings.version else { return false }
            if served.settings.version == classifier.settings.version {
                state.waiting[name] = nil  // back to what is served: nothing to swap
            } else {
                state.waiting[name] = classifier
            }
            return true
        }
    }

    /// The waiting versions, now counted as served.
    public func takeWaiting() -> [ImageClassifier] {
        state.withLock { state in
            let waiting = state.waiting.keys.sorted().map { state.waiting[$0]! }
            for classifier in waiting { state.served[classifier.settings.name] = classifier }
            state.waiting = [:]
            return waiting
        }
    }
}
