import Foundation

/// Lines to standard error: progress and summaries, apart from a command's output.
struct StandardError {
    func line(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
