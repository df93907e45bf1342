import Kafka

/// The consumer's batch, as a plain state machine: records come in, a batch is due when it is
/// full (by count, or by bytes: a batch of large inline images must not hold gigabytes) or has
/// waited long enough, and records of partitions taken away are dropped (their new
/// owner resumes from the offsets in PostgreSQL). No I/O, so it is tested on its own.
public struct BatchState {
    public let maxEvents: Int
    public let maxBytes: Int
    public let maxWait: Duration
    public private(set) var pending: [KafkaMessage] = []
    public private(set) var bytes = 0
    private var firstArrival: ContinuousClock.Instant?

    public init(maxEvents: Int, maxBytes: Int = .max, maxWait: Duration) {
        self.maxEvents = max(1, maxEvents)
        self.maxBytes = max(1, maxBytes)
        self.maxWait = maxWait
    }

    public var isEmpty: Bool { pending.isEmpty }
    public var count: Int { pending.count }

    public mutating func add(_ message: KafkaMessage, at now: ContinuousClock.Instant) {
        if pending.isEmpty { firstArrival = now }
        pending.append(message)
        bytes += message.value.count
    }

    /// Whether the batch should be processed now.
    public func isDue(at now: ContinuousClock.Instant) -> Bool {
        guard let firstArrival else { return false }
        return pending.count >= maxEvents || bytes >= maxBytes || now - firstArrival >= maxWait
    }

    /// How long a poll may block without making a due batch late.
    public func pollTimeout(at now: ContinuousClock.Instant, idle: Duration) -> Duration {
        guard let firstArrival else { return idle }
        return max(.zero, min(idle, maxWait - (now - firstArrival)))
    }

    /// Hands the batch over for processing and starts a new one.
    public mutating func take() -> [KafkaMessage] {
        defer {
            pending = []
            bytes = 0
            firstArrival = nil
        }
        return pending
    }

    /// Forgets records of partitions this consumer no longer owns.
    public mutating func drop(partitions: Set<TopicPartition>) {
        pending.removeAll { partitions.contains($0.topicPartition) }
        bytes = pending.reduce(0) { $0 + $1.value.count }
        if pending.isEmpty { firstArrival = nil }
    }

    /// The next offset to read of every partition in `messages`.
    public static func nextOffsets(of messages: [KafkaMessage]) -> [TopicPartition: Int64] {
        var next: [TopicPartition: Int64] = [:]
        for message in messages {
            next[message.topicPartition] = max(next[message.topicPartition] ?? 0, message.offset + 1)
        }
        return next
    }
}
