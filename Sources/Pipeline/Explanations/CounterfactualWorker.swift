import Diffusion
import Explanations
import Foundation
import Imaging
import Logging
import Postgres
import TensorEngine

/// Explains every positive call of a classifier by a counterfactual film, in the background:
/// takes the pending calls from PostgreSQL a batch at a time (`CounterfactualStore.take`, which
/// locks them so that another instance's worker skips them), makes their counterfactuals with
/// the joint diffusion model, and writes them in the same transaction. It runs on one core in
/// Linux's idle scheduling class (only when a core would otherwise idle) and rests after each
/// batch for as long as keeps it to `cpuShare` of that core, so the stream's batches are not
/// delayed by it.
final class CounterfactualWorker {
    private let settings: RadStreamConfiguration.Counterfactuals
    private let explainer: CounterfactualExplainer
    private let scope: CounterfactualStore.Scope
    private let session: DatabaseSession
    private let status: DaemonStatus
    private let metrics: DaemonMetrics
    private let logger: Logger

    init(settings: RadStreamConfiguration.Counterfactuals, model: JointDiffusionModel, conninfo: String, status: DaemonStatus,
         metrics: DaemonMetrics, logger: Logger) throws {
        self.settings = settings
        explainer = try CounterfactualExplainer(model: model, options: .init(startStep: settings.startStep, steps: settings.steps,
                                                                             guidance: settings.guidance, inversion: settings.inversion))
        let classes = model.settings.classes
        guard classes.count == 2 else {
            throw ConfigurationError("the counterfactual worker explains the positive calls of a two-class model; \(model.settings.name) has \(classes)")
        }
        scope = .init(model: settings.explains.isEmpty ? model.settings.name : settings.explains, positive: classes[1], side: model.settings.inputSide)
        session = DatabaseSession("counterfactual worker", conninfo: conninfo, status: status, logger: logger)
        (self.status, self.metrics, self.logger) = (status, metrics, logger)
    }

    /// Until the daemon stops.
    func run() {
        DaemonThreads.idleSchedulingOfCallingThread()
        logger.info("counterfactuals: explaining \(scope.model)'s \(scope.positive) calls with \(explainer.model.settings.name) \(explainer.model.settings.version) on \(Int(settings.cpuShare * 100))% of a core")
        while !status.stopRequested {
            do {
                let started = ContinuousClock.now
                let made = try EngineWorkers.with(1) { try session.run("counterfactual explanations", batch) }
                metrics.counterfactualsPending(try session.run("counterfactuals pending") { try CounterfactualStore(connection: $0).pendingCount(scope) })
                guard made > 0 else {
                    status.sleep(.seconds(settings.checkSeconds))
                    continue
                }
                status.sleep((ContinuousClock.now - started) * ((1 - settings.cpuShare) / settings.cpuShare))
            } catch is DatabaseSession.Stopped {
                return
            } catch {
                logger.error("counterfactuals: \(error)")
                status.sleep(.seconds(5))
            }
        }
    }

    /// One batch, in one transaction: take, make, write. Returns how many were taken.
    private func batch(_ connection: PostgresConnection) throws -> Int {
        try connection.transaction { connection in
            let store = CounterfactualStore(connection: connection)
            let pending = try store.take(scope, limit: settings.batchSize)
            guard !pending.isEmpty else { return 0 }
            let side = scope.side
            let readable = pending.filter { $0.pixels.count == side * side }
            // Toward the other class of the call explained, whatever the joint head would call the film.
            // A stop request ends the batch within a sampling step; the transaction rolls back and
            // the calls stay pending for the next start.
            guard let made = explainer.explain(readable.map(\.pixels), calls: [Int](repeating: 1, count: readable.count),
                                               unless: { status.stopRequested }) else { throw DatabaseSession.Stopped() }
            var results: [Int: CounterfactualStore.Outcome] = [:]
            for (call, counterfactual) in zip(readable, made) {
                results[call.imageID] = try Self.outcome(call, counterfactual, classes: explainer.model.settings.classes, side: side)
            }
            for call in pending {
                let outcome = results[call.imageID] ?? .failed("the kept \(side)-pixel copy has \(call.pixels.count) bytes, not \(side * side)")
                try store.record(call, scope: scope, explainerVersion: explainer.model.settings.version, outcome: outcome)
                if case .failed(let reason) = outcome { logger.warning("counterfactuals: image \(call.imageID): \(reason)") }
                metrics.counterfactualMade(status: { if case .done = outcome { "done" } else { "failed" } }())
            }
            return pending.count
        }
    }

    static func outcome(_ call: CounterfactualStore.Pending, _ made: Counterfactual, classes: [String],
                        side: Int) throws -> CounterfactualStore.Outcome {
        let difference = CounterfactualExplainer.differenceMap(original: call.pixels, counterfactual: made.pixels)
        return .done(.init(fromClass: classes[made.from], toClass: classes[made.to], probabilityBefore: made.probabilityBefore,
                           probabilityAfter: made.probabilityAfter, flipped: made.flipped, l1: made.l1,
                           changedFraction: made.changedFraction,
                           counterfactualPNG: try PNGEncoder.encode(GreyImage(width: side, height: side, pixels: made.pixels)),
                           differencePNG: try PNGEncoder.encodeRGB(difference, width: side, height: side)))
    }
}
