/// Why self-training could not run or record a round.
public struct SelfTrainingError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
