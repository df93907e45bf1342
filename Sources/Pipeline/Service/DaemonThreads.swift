import Foundation
import Logging

/// The daemon's threads (librdkafka and libpq block, so each loop has one): the consumer; the
/// model watcher, which hears of newly served versions; the refresher of the summarizer's memory;
/// the publisher of the result outbox; the recorder of the consumer's lag; and, when turned on,
/// the self-training scheduler and the counterfactual worker. They share `status`: a stop
/// request ends them all.
final class DaemonThreads: @unchecked Sendable {  // started once, from one thread; the threads share only Sendable state
    private let consumer: StreamConsumer
    private var helpers: [(name: String, run: () -> Void)] = []
    private let helpersDone = DispatchGroup()
    /// How long the consumer's end waits for the helpers before the daemon exits without them.
    static let helperStopBound = Duration.seconds(5)
    private let status: DaemonStatus

    init(configuration: RadStreamConfiguration, processor: EventProcessor, status: DaemonStatus, metrics: DaemonMetrics,
         logger: Logger) throws {
        self.status = status
        let served = ServedModels(processor.classifiers)
        consumer = StreamConsumer(configuration: configuration, processor: processor, served: served, status: status,
                                  metrics: metrics, logger: logger)
        if !served.names.isEmpty {
            let watcher = ModelWatcher(served: served, conninfo: configuration.postgres.conninfo, status: status, logger: logger)
            helpers.append(("radstream-models", watcher.run))
        }
        if configuration.models.summaryMemory.source == .database, let memory = processor.reportMemory {
            let refresher = ReportMemoryRefresher(holder: memory, settings: configuration.models.summaryMemory,
                                                  conninfo: configuration.postgres.conninfo, status: status, metrics: metrics, logger: logger)
            helpers.append(("radstream-report-memory", refresher.run))
        }
        if configuration.selfTraining.enabled {
            let scheduler = SelfTrainingScheduler(settings: configuration.selfTraining, group: configuration.kafka.groupID,
                                                  conninfo: configuration.postgres.conninfo, served: served, status: status,
                                                  metrics: metrics, logger: logger)
            helpers.append(("radstream-self-training", scheduler.run))
        }
        if configuration.results.enabled {
            let publisher = try ResultPublisher(configuration: configuration, status: status, metrics: metrics, logger: logger)
            helpers.append(("radstream-results", publisher.run))
        }
        if configuration.kafka.lagRecordSeconds > 0 {
            let recorder = LagRecorder(configuration: configuration, status: status, logger: logger)
            helpers.append(("radstream-lag", recorder.run))
        }
        if configuration.counterfactuals.enabled, let model = processor.explainer {
            let worker = try CounterfactualWorker(settings: configuration.counterfactuals, model: model, conninfo: configuration.postgres.conninfo,
                                                  status: status, metrics: metrics, logger: logger)
            helpers.append(("radstream-counterfactuals", worker.run))
        }
    }

    /// Starts every thread; `ended` runs on the consumer's thread when it ends (with its error,
    /// if it failed), after which the helpers are asked to stop too.
    func start(ended: @escaping @Sendable ((any Error)?) -> Void) {
        for helper in helpers { start(helper.name, helper.run, group: helpersDone) }
        nonisolated(unsafe) let consumer = consumer  // used on its thread only
        let status = status
        start("radstream-consumer", {
            var failure: (any Error)?
            do { try consumer.run() } catch { failure = error }
            status.requestStop()
            ended(failure)
        }, group: nil)
    }

    /// Nice 10 for the calling thread only (Linux schedules threads by their own id, read from
    /// /proc/thread-self): the stream's threads come first when a background helper (a
    /// self-training round, the counterfactual worker) and they both want a core.
    static func lowerPriorityOfCallingThread() {
        guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"),
              let thread = link.split(separator: "/").last.flatMap({ id_t($0) }) else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), thread, 10)
    }

    /// SCHED_IDLE for the calling thread only: it runs when a core would otherwise idle. The
    /// stream's passes are split evenly over both cores and wait for their slowest share, so a
    /// merely niced thread that takes its slices of one core delays whole batches; an idle-class
    /// thread yields at once. Falls back to nice 10 where the class is refused.
    static func idleSchedulingOfCallingThread() {
        guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"),
              let thread = link.split(separator: "/").last.flatMap({ pid_t($0) }) else { return }
        var parameters = sched_param(sched_priority: 0)
        let idle: Int32 = 5  // SCHED_IDLE, which Glibc's module does not export
        if sched_setscheduler(thread, idle, &parameters) != 0 { lowerPriorityOfCallingThread() }
    }

    /// Waits for the helpers to end after a stop request, at most `bound`: each ends within a
    /// step of its work, but an idle-class thread on a machine kept busy by others may not be
    /// given the CPU to take that step. The consumer has committed by then, and a helper's
    /// unfinished work is inside a transaction (a counterfactual batch) or not yet recorded (a
    /// round), so leaving without it loses nothing: PostgreSQL rolls it back. False if it timed out.
    func waitForHelpers(atMost bound: Duration) -> Bool {
        let seconds = Double(bound.components.seconds) + Double(bound.components.attoseconds) / 1e18
        return helpersDone.wait(timeout: .now() + seconds) == .success
    }

    private func start(_ name: String, _ body: @escaping () -> Void, group: DispatchGroup?) {
        group?.enter()
        nonisolated(unsafe) let body = body  // handed to the thread; used only there
        let thread = Thread {
            body()
            group?.leave()
        }
        thread.name = name
        thread.start()
    }
}
