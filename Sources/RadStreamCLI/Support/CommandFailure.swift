/// A command that could not do its work for a reason found while running — a folder without
/// reports, a database without the registry, a file that cannot be read: exit 1 with the reason.
/// `ValidationError` (exit 64, the usage printed) is kept for what was wrong with the command line.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
