import Foundation

/// A status line on standard error, rewritten in place on a terminal.
enum ProgressLine {
    static let isTerminal = isatty(STDERR_FILENO) == 1

    static func show(_ text: String) {
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + text : text + "\n").utf8))
    }

    static func finish(_ text: String) {
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" : "").utf8 + Data((text + "\n").utf8)))
    }
}
