import Foundation

/// The forward (noising) process of a DDPM (Ho et al., 2020): `steps` steps with β rising
/// linearly from `betaStart` to `betaEnd`, and ᾱₜ = Πₛ≤ₜ (1 − βₛ), so that
/// xₜ = √ᾱₜ·x₀ + √(1 − ᾱₜ)·ε. Step indices run 0..<steps (step 0 adds the least noise).
public struct NoiseSchedule: Codable, Sendable, Equatable {
    public var steps = 1000
    public var betaStart = 1e-4
    public var betaEnd = 0.02

    public init(steps: Int = 1000, betaStart: Double = 1e-4, betaEnd: Double = 0.02) {
        (self.steps, self.betaStart, self.betaEnd) = (steps, betaStart, betaEnd)
    }

    /// ᾱₜ for every step, in Double: the product of a thousand factors near 1 loses digits in Float.
    public var alphaBars: [Double] {
        var product = 1.0
        return (0..<steps).map { step in
            let beta = betaStart + (betaEnd - betaStart) * Double(step) / Double(max(steps - 1, 1))
            product *= 1 - beta
            return product
        }
    }

    /// `count` steps for DDIM from `start` down to 0, evenly spaced, descending (start first).
    public func ddimSteps(from start: Int, count: Int) -> [Int] {
        precondition(start >= 0 && start < steps && count >= 1, "DDIM from step \(start) in \(count) steps of \(steps)")
        let count = min(count, start + 1)
        guard count > 1 else { return [start] }
        return (0..<count).map { Int((Double(start) * Double(count - 1 - $0) / Double(count - 1)).rounded()) }
    }
}
