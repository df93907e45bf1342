import ChildProcesses
import Foundation
import Testing

@Suite("Child processes")
struct ChildProcessTests {
    /// A child starts with no standard signal blocked and none ignored, whatever the spawning
    /// thread blocks and this process ignores: here SIGTERM blocked and SIGPIPE and SIGINT
    /// ignored while it spawns (its own mask and dispositions of signals 1–31, as /proc shows
    /// them, all clear; glibc keeps the real-time signals it reserves for itself).
    @Test func aChildStartsWithNoSignalBlockedOrIgnored() throws {
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        let (pipeAction, interruptAction) = (signal(SIGPIPE, SIG_IGN), signal(SIGINT, SIG_IGN))
        defer {
            pthread_sigmask(SIG_SETMASK, &previous, nil)
            signal(SIGPIPE, pipeAction)
            signal(SIGINT, interruptAction)
        }
        let run = try ChildProcess.run("/bin/grep", ["-E", "^Sig(Blk|Ign):", "/proc/self/status"])
        #expect(run.status == 0)
        let masks = run.output.split(separator: "\n").compactMap { $0.split(separator: "\t").last.flatMap { UInt64($0, radix: 16) } }
        #expect(masks.count == 2 && masks.allSatisfy { $0 & 0x7FFF_FFFF == 0 }, "\(run.output)")
    }
}
