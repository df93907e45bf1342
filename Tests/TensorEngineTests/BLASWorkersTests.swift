import Foundation
import Testing
@testable import TensorEngine

@Suite("The engine's workers")
struct BLASWorkersTests {
    /// A thread's own count (self-training on one core) leaves every other thread's alone.
    @Test func aThreadsOwnWorkerCountIsItsAlone() {
        let engine = BLAS.workers
        BLAS.withWorkers(1) {
            #expect(BLAS.workers == 1)
            BLAS.withWorkers(3) { #expect(BLAS.workers == 3) }
            #expect(BLAS.workers == 1)
            nonisolated(unsafe) var seenElsewhere = 0
            let done = DispatchSemaphore(value: 0)
            Thread { seenElsewhere = BLAS.workers; done.signal() }.start()
            done.wait()
            #expect(seenElsewhere == engine)
        }
        #expect(BLAS.workers == engine)
    }
}
