import Foundation

/// Faults the tests inject into a debug build of `serve`, as a decoder's bug would cause them:
/// `RADSTREAM_FAILPOINT_CRASH=<event_id>` aborts the process when it processes that event,
/// `RADSTREAM_FAILPOINT_HANG=<event_id>` blocks it there for good. A release build has neither.
enum Failpoints {
    #if DEBUG
    private static let crash = ProcessInfo.processInfo.environment["RADSTREAM_FAILPOINT_CRASH"]
    private static let hang = ProcessInfo.processInfo.environment["RADSTREAM_FAILPOINT_HANG"]

    static func processing(_ eventID: String) {
        if eventID == crash { abort() }
        if eventID == hang { while true { sleep(3600) } }
    }
    #else
    @inline(__always) static func processing(_ eventID: String) {}
    #endif
}
