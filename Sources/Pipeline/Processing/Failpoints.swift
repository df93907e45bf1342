import Foundation

/// Faults the tests inject into a debug build of `serve`, as a decoder's bug would cause them:
/// `RADSTREAM_FAILPOINT_CRASH=<event_id>` aborts the process when it processes that event,
/// `RADSTREAM_FAILPOINT_HANG=<event_id>` blocks it there for good, and
/// `RADSTREAM_FAILPOINT_BATCH_DELAY_MS=<n>` makes every batch take n ms longer to process (a slow
/// model), so that a test can catch the daemon holding one. A release build has none of them.
enum Failpoints {
    #if DEBUG
    private static let crash = ProcessInfo.processInfo.environment["RADSTREAM_FAILPOINT_CRASH"]
    private static let hang = ProcessInfo.processInfo.environment["RADSTREAM_FAILPOINT_HANG"]

    private static let batchDelay = ProcessInfo.processInfo.environment["RADSTREAM_FAILPOINT_BATCH_DELAY_MS"].flatMap { Int($0) }

    static func processing(_ eventID: String) {
        if eventID == crash { abort() }
        if eventID == hang { while true { sleep(3600) } }
    }

    static func processingBatch() {
        if let batchDelay { usleep(UInt32(batchDelay) * 1000) }
    }
    #else
    @inline(__always) static func processing(_ eventID: String) {}
    @inline(__always) static func processingBatch() {}
    #endif
}
