import Models
import Synchronization

/// The image classifiers the daemon serves (each with its version's gate), by name, and the new
/// versions waiting to replace them. The watcher offers a version it heard of; the consumer takes
/// the waiting ones between two batches, so that a batch is classified by one version from its
/// first image to its last.
public final class ServedModels: Sendable {
    private struct State {
        var served: [String: GatedClassifier]
        var waiting: [String: GatedClassifier] = [:]
    }

    private let state: Mutex<State>

    public init(_ classifiers: [GatedClassifier]) {
        state = Mutex(State(served: Dictionary(uniqueKeysWithValues: classifiers.map { ($0.name, $0) })))
    }

    public var names: [String] { state.withLock { $0.served.keys.sorted() } }

    /// The version served now of a model.
    public func classifier(named name: String) -> GatedClassifier? { state.withLock { $0.served[name] } }

    /// The version a model will serve once the waiting ones are taken.
    public func latestVersion(of name: String) -> String? {
        state.withLock { ($0.waiting[name] ?? $0.served[name])?.version }
    }

    /// Queues a version to serve (replacing any other waiting for its model); a version already
    /// served or waiting, or of a model not served, is ignored. Returns whether it was queued.
    @discardableResult
    public func offer(_ classifier: GatedClassifier) -> Bool {
        state.withLock { state in
            let name = classifier.name
            guard let served = state.served[name],
                  (state.waiting[name] ?? served).version != classifier.version else { return false }
            if served.version == classifier.version {
                state.waiting[name] = nil  // back to what is served: nothing to swap
            } else {
                state.waiting[name] = classifier
            }
            return true
        }
    }

    /// The waiting versions, now counted as served.
    public func takeWaiting() -> [GatedClassifier] {
        state.withLock { state in
            let waiting = state.waiting.keys.sorted().map { state.waiting[$0]! }
            for classifier in waiting { state.served[classifier.name] = classifier }
            state.waiting = [:]
            return waiting
        }
    }
}
