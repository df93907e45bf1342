extension Duration {
    /// Whole milliseconds, as librdkafka's timeouts take them (clamped to its `int`).
    var kafkaMilliseconds: Int32 {
        Int32(clamping: components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
    }
}
