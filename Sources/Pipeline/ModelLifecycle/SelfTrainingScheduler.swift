import Foundation
import Glibc
import Logging
import Postgres
import SelfTraining
import TensorEngine

/// Starts self-training rounds inside the daemon: every `checkSeconds` it asks whether a round
/// is due (enough new unlabeled images, or the interval passed), and if so runs one — unless
/// another instance of the consumer group leads (`SelfTrainer` takes an advisory lock).
///
/// A round runs beside the stream without starving it: on this thread alone (the engine's
/// products and convolutions get one worker here, whatever the stream's models use), at a lower
/// scheduling priority, and resting after each step so that it takes no more than `cpuShare` of
/// a core. When the daemon stops, the round ends at its next step (recorded as failed).
public final class SelfTrainingScheduler {
    private let settings: SelfTrainingSettings
    private let group: String
    private let conninfo: String
    private let served: ServedModels
    private let status: DaemonStatus
    private let metrics: DaemonMetrics
    private let logger: Logger

    init(settings: SelfTrainingSettings, group: String, conninfo: String, served: ServedModels, status: DaemonStatus,
         metrics: DaemonMetrics, logger: Logger) {
        self.settings = settings
        self.group = group
        self.conninfo = conninfo
        self.served = served
        self.status = status
        self.metrics = metrics
        self.logger = logger
    }

    /// Why the configuration cannot self-train, found when the daemon starts rather than at its first round.
    public static func check(_ configuration: RadStreamConfiguration, serving classifiers: [String]) throws {
        let settings = configuration.selfTraining
        guard settings.enabled else { return }
        try settings.validate()
        guard classifiers.contains(settings.model) else {
            throw ConfigurationError("selfTraining.model is \(settings.model), but the daemon serves \(classifiers)")
        }
        var isFolder: ObjCBool = false
        guard !settings.labeledData.isEmpty,
              FileManager.default.fileExists(atPath: settings.labeledData + "/val", isDirectory: &isFolder), isFolder.boolValue else {
            throw ConfigurationError("""
                selfTraining.labeledData (\(settings.labeledData.isEmpty ? "unset" : settings.labeledData)) must be a folder \
                with train/ and val/ (RADSTREAM_SELF_TRAINING_DATA)
                """)
        }
    }

    struct Stopping: Error, CustomStringConvertible {
        var description: String { "the daemon is stopping" }
    }

    /// Until the daemon stops.
    func run() {
        DaemonThreads.lowerPriorityOfCallingThread()
        let started = Date()
        var trainer: SelfTrainer?
        logger.info("self-training \(settings.model): a round every \(settings.newImages) new unlabeled images or \(settings.intervalMinutes) min")
        while !status.stopRequested {
            status.sleep(.seconds(settings.checkSeconds))
            guard !status.stopRequested else { break }
            do {
                let current = try trainer ?? SelfTrainer.connected(settings: settings, group: group, conninfo: conninfo)
                trainer = current
                guard let trigger = try current.due(since: started).trigger else { continue }
                guard let model = served.classifier(named: settings.model) else {
                    throw SelfTrainingError("the daemon serves no classifier named \(settings.model)")
                }
                logger.notice("self-training round due (\(trigger.rawValue))")
                let record = try EngineWorkers.with(1) {
                    try current.runRound(trigger: trigger, served: model, pace: pace, progress: { [logger] in logger.info("self-training: \($0)") })
                }
                guard let record else {
                    logger.info("self-training: another instance of group \(group) is training")
                    continue
                }
                metrics.selfTrainingRound(decision: record.decision)
                logger.notice("self-training round \(record.decision): \(record.candidateVersion ?? "-"): \(record.reason)")
            } catch is Stopping {
                metrics.selfTrainingRound(decision: "failed")
                logger.notice("self-training round ended early: the daemon is stopping")
            } catch {
                metrics.selfTrainingRound(decision: "failed")
                logger.error("self-training: \(error)")
                trainer = nil  // a new connection next time
            }
        }
    }

    /// After each step: rest long enough that the step's work is `cpuShare` of the time; end the
    /// round if the daemon is stopping.
    private func pace(_ step: Duration) throws {
        if status.stopRequested { throw Stopping() }
        guard settings.cpuShare < 1 else { return }
        status.sleep(step * ((1 - settings.cpuShare) / settings.cpuShare))
        if status.stopRequested { throw Stopping() }
    }
}
