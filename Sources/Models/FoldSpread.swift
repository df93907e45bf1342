/// A figure measured fold by fold: its mean and sample standard deviation (n − 1), as every
/// cross-validation of RadStream's models reports it.
public struct FoldSpread: Codable, Sendable, Equatable {
    public var mean: Double
    public var standardDeviation: Double

    public init(_ values: [Double]) {
        let mean = values.reduce(0, +) / Double(max(values.count, 1))
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(values.count - 1, 1))
        self.mean = mean
        standardDeviation = variance.squareRoot()
    }
}
