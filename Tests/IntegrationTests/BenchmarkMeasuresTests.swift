import Foundation
@testable import Harness
import Testing

/// What the stream benchmark reads of a process from /proc.
@Suite("Benchmark measures")
struct BenchmarkMeasuresTests {
    @Test func cpuTimeGrowsWithTheWorkDoneAndIsZeroForNoProcess() {
        let before = StreamBenchmark.cpuSeconds(of: getpid())
        let clock = ContinuousClock(), start = clock.now
        var sum = 0.0
        while clock.now - start < .milliseconds(300) { for k in 0..<10_000 { sum += Double(k).squareRoot() } }
        let after = StreamBenchmark.cpuSeconds(of: getpid())
        #expect(sum > 0 && before > 0)
        // 0.3 s busy on this thread: at least a fifth of it counted (a tick is 10 ms), and not more
        // than the test process's threads could have spent meanwhile.
        #expect(after - before >= 0.06 && after - before < 10, "\(after - before) s")
        #expect(StreamBenchmark.cpuSeconds(of: pid_t(Int32.max)) == 0)
    }
}
