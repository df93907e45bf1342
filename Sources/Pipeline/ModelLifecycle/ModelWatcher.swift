import Foundation
import Logging
import Postgres
import Registry
import SelfTraining

/// Listens, on a connection of its own, for the registry's announcements of a newly served
/// version, and offers each to the consumer through `ServedModels`. On every (re)connection it
/// reads the registry's active versions too, so that an announcement made while it was away is
/// not missed.
final class ModelWatcher {
    private let served: ServedModels
    private let session: DatabaseSession
    private let status: DaemonStatus
    private let logger: Logger

    init(served: ServedModels, conninfo: String, status: DaemonStatus, logger: Logger) {
        self.served = served
        self.status = status
        self.logger = logger
        session = DatabaseSession("model watcher", conninfo: conninfo, status: status, logger: logger)
    }

    /// Until the daemon stops.
    func run() {
        var listening: PostgresConnection?
        while !status.stopRequested {
            do {
                try session.run("model registry") { connection in
                    if listening !== connection {
                        try connection.listen(ModelRegistry.channel)
                        listening = connection
                        try offerActiveVersions(on: connection)
                    }
                    if try !connection.notifications(timeout: .seconds(1)).isEmpty {
                        try offerActiveVersions(on: connection)
                    }
                }
            } catch is DatabaseSession.Stopped {
                return
            } catch {
                logger.error("model registry: \(error)")
                status.sleep(.seconds(5))
            }
        }
    }

    /// Offers each served model's active version, where it is not the one served or waiting.
    /// Reading the registry rather than the announcement itself: several promotions in a row
    /// end with the last one served.
    private func offerActiveVersions(on connection: PostgresConnection) throws {
        let registry = ModelRegistry(connection: connection)
        for name in served.names {
            guard let active = try registry.activeVersion(of: name), active != served.latestVersion(of: name) else { continue }
            let classifier = try registry.classifier(name, version: active)
            if served.offer(classifier) { logger.notice("model \(name) \(active) announced; swapping in at the next batch") }
        }
    }
}
