import Foundation
import Testing
@testable import TensorEngine

@Suite("The engine's workers")
struct EngineWorkersTests {
    /// A thread's own count (self-training on one core) leaves every other thread's alone.
    @Test func aThreadsOwnWorkerCountIsItsAlone() {
        let engine = EngineWorkers.count
        EngineWorkers.with(1) {
            #expect(EngineWorkers.count == 1)
            EngineWorkers.with(3) { #expect(EngineWorkers.count == 3) }
            #expect(EngineWorkers.count == 1)
            nonisolated(unsafe) var seenElsewhere = 0
            let done = DispatchSemaphore(value: 0)
            Thread { seenElsewhere = EngineWorkers.count; done.signal() }.start()
            done.wait()
            #expect(seenElsewhere == engine)
        }
        #expect(EngineWorkers.count == engine)
    }
}
