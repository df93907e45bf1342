import ChildProcesses
import Foundation

/// What a trained model's manifest records of how it was made: the commit of the tree, the
/// command as it was run, and this binary (for the commands that start it as a child process).
enum Provenance {
    /// The tree's commit, "-dirty" when it has uncommitted changes; "unknown" outside a git checkout.
    static func commit() -> String {
        guard let result = try? ChildProcess.run("/usr/bin/git", ["describe", "--always", "--dirty", "--abbrev=40"]),
              result.status == 0 else { return "unknown" }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The command line as it was run, quoted for a shell.
    static var command: String { CommandLine.arguments.map(shellQuoted).joined(separator: " ") }

    static func shellQuoted(_ argument: String) -> String {
        argument.allSatisfy { $0.isLetter || $0.isNumber || "-_./=,:".contains($0) } ? argument : "'\(argument.replacingOccurrences(of: "'", with: "'\\''"))'"
    }

    /// This executable, as the kernel knows it (a relative argv[0] would not survive a chdir).
    static var binary: String { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0] }
}
