/// Timing for the benchmarks.
enum BenchmarkClock {
    /// Calls `body` once to warm up, then repeatedly for about `seconds`; returns calls per second.
    static func callsPerSecond(for seconds: Double, _ body: () -> Void) -> Double {
        body()
        let start = ContinuousClock.now
        var calls = 0
        while self.seconds(ContinuousClock.now - start) < seconds {
            body()
            calls += 1
        }
        return Double(calls) / self.seconds(ContinuousClock.now - start)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
