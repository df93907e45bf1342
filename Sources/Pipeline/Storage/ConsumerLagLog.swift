import Kafka
import Postgres

/// The history of the consumer's lag (`consumer_lag`, migration 0014): written by each daemon's
/// lag recorder for the partitions it holds, read by the dashboards through `dashboard.consumer_lag`.
public struct ConsumerLagLog {
    let connection: PostgresConnection
    /// Samples older than this are deleted as new ones are written.
    static let retentionDays = 30

    public init(connection: PostgresConnection) { self.connection = connection }

    /// One sample: the records waiting in each partition, at one instant.
    func record(group: String, lags: [TopicPartition: Int64]) throws {
        guard !lags.isEmpty else { return }
        var values: [String] = []
        var parameters: [PostgresValue] = [.text(group)]
        for partition in lags.keys.sorted(by: { ($0.topic, $0.partition) < ($1.topic, $1.partition) }) {
            parameters += [.text(partition.topic), .int(Int64(partition.partition)), .int(lags[partition]!)]
            let last = parameters.count
            values.append("($1, $\(last - 2), $\(last - 1)::integer, $\(last)::bigint)")
        }
        // One sample, one transaction: a retried sample is not written twice.
        try connection.transaction { connection in
            try connection.execute("DELETE FROM consumer_lag WHERE sampled_at < now() - make_interval(days => $1::integer)",
                                   [.int(Int64(Self.retentionDays))])
            try connection.execute("""
                INSERT INTO consumer_lag (consumer_group, topic, kafka_partition, lag) VALUES \(values.joined(separator: ", "))
                """, parameters)
        }
    }
}
