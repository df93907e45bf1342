import Foundation

/// An optimizer updates parameters from their gradients, then clears the gradients.
public protocol Optimizer {
    var parameters: [Tensor] { get }
    var learningRate: Float { get set }
    mutating func step()
}

extension Optimizer {
    /// Scales every gradient so that their joint L2 norm is at most `maxNorm`; returns the norm
    /// before clipping.
    @discardableResult
    public func clipGradients(maxNorm: Float) -> Float {
        var squared: Double = 0
        for p in parameters { for g in p.grad ?? [] { squared += Double(g) * Double(g) } }
        let norm = Float(squared.squareRoot())
        if norm > maxNorm {
            let scale = maxNorm / (norm + 1e-6)
            for p in parameters where p.grad != nil { p.grad = p.grad!.map { $0 * scale } }
        }
        return norm
    }
}

/// Stochastic gradient descent with momentum and (coupled, L2) weight decay, as PyTorch's SGD.
public struct SGD: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    private var velocity: [[Float]]

    public init(parameters: [Tensor], learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        velocity = parameters.map { [Float](repeating: 0, count: $0.count) }
    }

    public mutating func step() {
        for (index, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            for i in p.data.indices {
                let g = grad[i] + weightDecay * p.data[i]
                velocity[index][i] = momentum * velocity[index][i] + g
                p.data[i] -= learningRate * velocity[index][i]
            }
            p.zeroGrad()
        }
    }
}

/// Adam with decoupled weight decay (Loshchilov & Hutter), as PyTorch's AdamW.
public struct AdamW: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    private var first: [[Float]]
    private var second: [[Float]]
    private var steps = 0

    public init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        first = parameters.map { [Float](repeating: 0, count: $0.count) }
        second = first
    }

    public mutating func step() {
        steps += 1
        let correction1 = 1 - Foundation.pow(beta1, Float(steps)), correction2 = 1 - Foundation.pow(beta2, Float(steps))
        for (index, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            for i in p.data.indices {
                p.data[i] -= learningRate * weightDecay * p.data[i]
                first[index][i] = beta1 * first[index][i] + (1 - beta1) * grad[i]
                second[index][i] = beta2 * second[index][i] + (1 - beta2) * grad[i] * grad[i]
                let mHat = first[index][i] / correction1, vHat = second[index][i] / correction2
                p.data[i] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
            }
            p.zeroGrad()
        }
    }
}

/// The learning rate over training: linear warm-up, then cosine decay to `minimum`.
public struct CosineSchedule: Sendable {
    public let peak: Float, minimum: Float
    public let warmupSteps: Int, totalSteps: Int

    public init(peak: Float, minimum: Float = 0, warmupSteps: Int = 0, totalSteps: Int) {
        self.peak = peak
        self.minimum = minimum
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let progress = Float(min(step - warmupSteps, totalSteps - warmupSteps)) / Float(max(1, totalSteps - warmupSteps))
        return minimum + (peak - minimum) * 0.5 * (1 + Foundation.cos(.pi * progress))
    }
}

/// An exponential moving average of parameters: the self-training teacher follows its student so.
public struct ExponentialMovingAverage {
    public let decay: Float
    public private(set) var shadow: [[Float]]

    public init(of parameters: [Tensor], decay: Float) {
        self.decay = decay
        shadow = parameters.map(\.data)
    }

    public mutating func update(from parameters: [Tensor]) {
        for (index, p) in parameters.enumerated() {
            for i in p.data.indices { shadow[index][i] = decay * shadow[index][i] + (1 - decay) * p.data[i] }
        }
    }
}
