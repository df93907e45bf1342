/// Why a run on the local stack (the benchmark, an experiment) could not finish.
public struct HarnessError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
