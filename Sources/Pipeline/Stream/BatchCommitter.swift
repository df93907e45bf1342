import Foundation

/// Commits processed batches on a thread of its own, one at a time and in the order given, so
/// that the consumer polls and processes the next batch while PostgreSQL commits this one: the
/// models keep the cores busy instead of waiting for the transaction.
///
/// At most one batch waits behind the one being committed; `submit` blocks beyond that, so a slow
/// or absent PostgreSQL holds the consumer back instead of letting batches pile up in memory.
/// A commit that fails stops the committer: the failure comes back from the next `submit` or
/// `drain`, and nothing submitted after it is written (those records are consumed again).
final class BatchCommitter<Job: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var waiting: Job?
    private var committing = false
    private var failure: (any Error)?
    private var finished = false
    private let commit: (Job) throws -> Void

    /// `commit` runs on the committer's thread, for one job at a time.
    init(commit: @escaping (Job) throws -> Void) {
        self.commit = commit
        let thread = Thread { [self] in loop() }
        thread.name = "radstream-commit"
        thread.start()
    }

    /// Hands a batch over, once the previous one waiting has been taken; rethrows an earlier failure.
    func submit(_ job: Job) throws {
        condition.lock()
        defer { condition.unlock() }
        while waiting != nil && failure == nil { condition.wait() }
        if let failure { throw failure }
        waiting = job
        condition.broadcast()
    }

    /// Returns once every batch handed over is committed; rethrows a failure.
    func drain() throws {
        condition.lock()
        defer { condition.unlock() }
        while (waiting != nil || committing) && failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    /// Ends the thread once the work in hand is done (call `drain` first to wait for it).
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while waiting == nil && !finished { condition.wait() }
            guard let job = waiting, failure == nil else {
                condition.unlock()
                return
            }
            waiting = nil
            committing = true
            condition.broadcast()
            condition.unlock()

            var error: (any Error)?
            do { try commit(job) } catch let caught { error = caught }

            condition.lock()
            committing = false
            if let error { failure = error }
            condition.broadcast()
            condition.unlock()
        }
    }
}
