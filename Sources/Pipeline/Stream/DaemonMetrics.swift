import BuildInfo
import Foundation
import Kafka
import Prometheus
import Synchronization

/// The daemon's Prometheus metrics, served at `/metrics`.
public final class DaemonMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let batchDuration: DurationHistogram
    let consumerLag: Gauge
    /// The partitions whose lag is reported: a partition revoked has its series removed.
    private let lagged = Mutex<[TopicPartition: Gauge]>([:])
    private static let stageBuckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(20), .milliseconds(50),
                                                   .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                                   .seconds(2.5), .seconds(5), .seconds(10), .seconds(30)]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        batchDuration = registry.makeDurationHistogram(
            name: "radstream_batch_duration_seconds",
            buckets: [.milliseconds(5), .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                      .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)],
            help: "Time to process one batch and commit it with its offsets")
        consumerLag = registry.makeGauge(name: "radstream_consumer_lag",
                                         help: "Records between the consumer's position and the end of its partitions")
        // Always 1: its labels say which release and commit is running (join it on other series).
        registry.makeGauge(name: "radstream_build_info", labels: [("version", Release.version), ("commit", BuildInfo.commit)],
                           help: "The running binary's release and commit").set(Double(1))
    }

    func consumed(_ count: Int, topic: String) {
        registry.makeCounter(name: "radstream_events_consumed_total", labels: [("topic", topic)],
                             help: "Records read from Kafka").increment(by: Int64(count))
    }

    func processed(kind: String, count: Int) {
        guard count > 0 else { return }
        registry.makeCounter(name: "radstream_events_processed_total", labels: [("kind", kind)],
                             help: "Events whose results were committed to PostgreSQL").increment(by: Int64(count))
    }

    /// Committed predictions by model, version and decision: the share of positive calls a
    /// dashboard watches for drift.
    func predicted(_ events: [ProcessedEvent]) {
        var counts: [[String]: Int64] = [:]
        for event in events {
            guard case .image(let record) = event.payload else { continue }
            for prediction in record.predictions { counts[[prediction.model, prediction.modelVersion, prediction.decision], default: 0] += 1 }
        }
        for (labels, count) in counts {
            registry.makeCounter(name: "radstream_predictions_total",
                                 labels: [("model", labels[0]), ("version", labels[1]), ("decision", labels[2])],
                                 help: "Image predictions in committed batches, by model, version and decision").increment(by: count)
        }
    }

    /// Counted when the dead letters are written (in the batch's transaction), so that a batch
    /// fenced off after a rebalance, or consumed again after a crash, does not count twice.
    func deadLettered(code: String, count: Int) {
        registry.makeCounter(name: "radstream_events_dead_lettered_total", labels: [("code", code)],
                             help: "Events written to the dead letters, by reason").increment(by: Int64(count))
    }

    /// A copy of an event already written (by `event_id`): not an error, but worth watching.
    func duplicates(_ count: Int) {
        guard count > 0 else { return }
        registry.makeCounter(name: "radstream_events_duplicate_total",
                             help: "Events whose event_id was already written at another offset; written once").increment(by: Int64(count))
    }

    /// PostgreSQL could not do the work for a reason of its own (not the event's).
    func databaseFailed(sqlState: String) {
        registry.makeCounter(name: "radstream_database_failures_total", labels: [("sqlstate", sqlState)],
                             help: "Attempts PostgreSQL refused or could not serve; retried with backoff").increment()
    }

    func offsetReset(_ partition: TopicPartition) {
        registry.makeCounter(name: "radstream_offset_resets_total", labels: [("topic", partition.topic)],
                             help: "Partitions whose stored offset lay past their end and were consumed again from their beginning").increment()
    }

    func heldPartitions(_ count: Int) {
        registry.makeGauge(name: "radstream_partitions_held",
                           help: "Assigned partitions not consumed because their stored offset lies past their end").set(Double(count))
    }

    func counterfactualMade(status: String) {
        registry.makeCounter(name: "radstream_counterfactuals_total", labels: [("status", status)],
                             help: "Positive calls explained by a counterfactual (done) or that could not be (failed)").increment()
    }

    func counterfactualsPending(_ count: Int) {
        registry.makeGauge(name: "radstream_counterfactuals_pending",
                           help: "Positive calls still waiting for their counterfactual explanation").set(Double(count))
    }

    func resultsPublished(fhir: Int, sr: Int) {
        for (document, count) in [("fhir", fhir), ("sr", sr)] where count > 0 {
            registry.makeCounter(name: "radstream_results_published_total", labels: [("document", document)],
                                 help: "Result documents published to the results topic, by kind").increment(by: Int64(count))
        }
    }

    func resultsPending(_ count: Int) {
        registry.makeGauge(name: "radstream_results_pending",
                           help: "Results in the outbox not yet published (they wait while the stream takes both cores)").set(Double(count))
    }

    func resultsSent(_ count: Int) {
        guard count > 0 else { return }
        registry.makeCounter(name: "radstream_results_sr_stored_total",
                             help: "SRs stored by C-STORE at results.dicomDestination").increment(by: Int64(count))
    }

    func summarizerMemory(_ reports: Int) {
        registry.makeGauge(name: "radstream_summarizer_memory_reports",
                           help: "Earlier reports the summarizer's reranker draws on (read from PostgreSQL)").set(Double(reports))
    }

    func lag(_ lags: [TopicPartition: Int64]) {
        consumerLag.set(Double(lags.values.reduce(0, +)))
        // A partition whose end librdkafka has not learnt yet keeps its last figure.
        lagged.withLock { gauges in
            for (partition, lag) in lags {
                let gauge = registry.makeGauge(name: "radstream_partition_lag",
                                               labels: [("topic", partition.topic), ("partition", String(partition.partition))],
                                               help: "Records between the consumer's position and the end of each assigned partition")
                gauge.set(Double(lag))
                gauges[partition] = gauge
            }
        }
    }

    /// Partitions gone to another member: their lag is that member's to report.
    func partitionsRevoked(_ partitions: [TopicPartition]) {
        lagged.withLock { gauges in
            for partition in partitions { if let gauge = gauges.removeValue(forKey: partition) { registry.unregisterGauge(gauge) } }
        }
    }

    /// How long one part of a batch took: "events" (per-event work, on every core), each model's
    /// batch stage by its name, "commit" (results and offsets in one transaction).
    @Sendable func stageTook(_ stage: String, _ duration: Duration) {
        registry.makeDurationHistogram(name: "radstream_stage_duration_seconds", labels: [("stage", stage)], buckets: Self.stageBuckets,
                                       help: "Time of each part of a batch: per-event work, each model, the commit").record(duration)
    }

    /// The model versions serving now (always 1; a swapped-out version's series is removed).
    func serving(model: String, version: String, replacing old: String?) {
        if let old {
            registry.unregisterGauge(registry.makeGauge(name: "radstream_model_info", labels: [("model", model), ("version", old)],
                                                        help: "The model versions serving, by model (always 1)"))
        }
        registry.makeGauge(name: "radstream_model_info", labels: [("model", model), ("version", version)],
                           help: "The model versions serving, by model (always 1)").set(Double(1))
    }
}

extension DaemonMetrics {
    func selfTrainingRound(decision: String) {
        registry.makeCounter(name: "radstream_self_training_rounds_total", labels: [("decision", decision)],
                             help: "Self-training rounds run by this instance, by decision (promoted, rejected, failed)").increment()
    }

    func modelSwapped(model: String, version: String) {
        registry.makeCounter(name: "radstream_model_swaps_total", labels: [("model", model), ("version", version)],
                             help: "Versions of a model swapped in while running").increment()
    }
}

extension DaemonMetrics {
    /// librdkafka's statistics document (`statistics.interval.ms`), the parts an operator acts on:
    /// each broker's state and round trip, the group's rebalances, and what the client received.
    /// A document that does not parse is passed over (the next one comes soon).
    func kafkaStatistics(_ json: String) {
        guard let document = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return }
        for (name, value) in document["brokers"] as? [String: Any] ?? [:] {
            guard let broker = value as? [String: Any], (Self.number(broker["nodeid"]) ?? -1) >= 0 else { continue }  // bootstrap entries
            registry.makeGauge(name: "radstream_kafka_broker_up", labels: [("broker", name)],
                               help: "Whether librdkafka's connection to each broker is up").set(broker["state"] as? String == "UP" ? 1.0 : 0.0)
            if let rtt = Self.number((broker["rtt"] as? [String: Any])?["avg"]) {
                registry.makeGauge(name: "radstream_kafka_broker_rtt_seconds", labels: [("broker", name)],
                                   help: "Mean round trip to each broker over the last statistics window").set(rtt / 1_000_000)
            }
        }
        if let rebalances = Self.number((document["cgrp"] as? [String: Any])?["rebalance_cnt"]) {
            registry.makeGauge(name: "radstream_kafka_rebalances", help: "Rebalances of the consumer group seen by this member").set(rebalances)
        }
        if let messages = Self.number(document["rxmsgs"]), let bytes = Self.number(document["rxmsg_bytes"]) {
            registry.makeGauge(name: "radstream_kafka_received_messages", help: "Messages librdkafka received from the brokers").set(messages)
            registry.makeGauge(name: "radstream_kafka_received_bytes", help: "Message bytes librdkafka received").set(bytes)
        }
    }

    /// A JSON number, whichever type JSONSerialization gave it.
    private static func number(_ value: Any?) -> Double? {
        switch value {
        case let value as Int: Double(value)
        case let value as Double: value
        case let value as NSNumber: value.doubleValue
        default: nil
        }
    }
}
