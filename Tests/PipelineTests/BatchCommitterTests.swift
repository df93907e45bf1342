import Foundation
import Synchronization
import Testing
@testable import Pipeline

@Suite("The batch committer")
struct BatchCommitterTests {
    struct Failed: Error {}

    /// Batches are committed in the order handed over, one at a time, while the caller goes on.
    @Test func commitsInOrderOneAtATime() throws {
        let committed = Mutex<[Int]>([]), running = Atomic<Int>(0), overlapped = Atomic<Bool>(false)
        let committer = BatchCommitter<Int> { job in
            if running.add(1, ordering: .relaxed).newValue > 1 { overlapped.store(true, ordering: .relaxed) }
            Thread.sleep(forTimeInterval: 0.002)
            committed.withLock { $0.append(job) }
            running.subtract(1, ordering: .relaxed)
        }
        defer { committer.finish() }
        for job in 0..<50 { try committer.submit(job) }
        try committer.drain()
        #expect(committed.withLock { $0 } == Array(0..<50))
        let overlaps = overlapped.load(ordering: .relaxed)
        #expect(!overlaps)
    }

    /// A failed commit comes back to the caller, and nothing handed over after it is committed.
    @Test func aFailureStopsItAndComesBack() throws {
        let committed = Mutex<[Int]>([])
        let committer = BatchCommitter<Int> { job in
            if job == 3 { throw Failed() }
            committed.withLock { $0.append(job) }
        }
        defer { committer.finish() }
        var thrown = false
        for job in 0..<10 {
            do { try committer.submit(job) } catch is Failed { thrown = true; break }
        }
        if !thrown { #expect(throws: Failed.self) { try committer.drain() } }
        #expect(committed.withLock { $0 } == [0, 1, 2])
    }
}
