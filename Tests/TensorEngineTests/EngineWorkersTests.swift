import Foundation
import Synchronization
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

@Suite("Work on every core")
struct ConcurrentMapTests {
    /// Counts the instances alive, so that a result kept by nobody but never freed shows.
    final class Tracked: Sendable {
        static let alive = Atomic<Int>(0)
        let index: Int
        init(_ index: Int) {
            self.index = index
            Self.alive.add(1, ordering: .relaxed)
        }
        deinit { Self.alive.subtract(1, ordering: .relaxed) }
    }

    /// Its results in index order, and nothing more kept of them than the array it returns: the
    /// daemon maps every batch's events through it, and a slot's copy never released had kept
    /// every event it ever processed.
    @Test func itsResultsAreInOrderAndFreedWithTheirArray() {
        let before = Tracked.alive.load(ordering: .relaxed)
        do {
            let results = concurrentMap(200) { Tracked($0) }
            #expect(results.map(\.index) == Array(0..<200))
            #expect(Tracked.alive.load(ordering: .relaxed) == before + 200)
        }
        #expect(Tracked.alive.load(ordering: .relaxed) == before)
    }
}
