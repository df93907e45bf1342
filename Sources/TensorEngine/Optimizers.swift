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
        let (learningRate, momentum, weightDecay) = (learningRate, momentum, weightDecay)
        for (index, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            Self.update(&p.data, &velocity[index], grad) { x, v, g in
                v = momentum * v + g + weightDecay * x
                x -= learningRate * v
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
        let (learningRate, beta1, beta2, epsilon, weightDecay) = (learningRate, beta1, beta2, epsilon, weightDecay)
        for (index, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            Self.update(&p.data, &first[index], &second[index], grad) { x, m, v, g in
                x -= learningRate * weightDecay * x
                m = beta1 * m + (1 - beta1) * g
                v = beta2 * v + (1 - beta2) * g * g
                let mHat = m / correction1, vHat = v / correction2
                x -= learningRate * mHat / (vHat.squareRoot() + epsilon)
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
///
/// With `warmUp`, update n (from 1) uses min(decay, (1 + n) / (10 + n)) instead of `decay`: the
/// average forgets the initial weights within the first few hundred steps rather than carrying
/// decayⁿ of them to the end (0.999⁷³⁰ ≈ 0.48 of a 730-step run would still be initialisation),
/// as TensorFlow's `num_updates` and timm's warm-up do.
public struct ExponentialMovingAverage {
    public let decay: Float
    public let warmUp: Bool
    public private(set) var shadow: [[Float]]
    public private(set) var updates = 0

    public init(of parameters: [Tensor], decay: Float, warmUp: Bool = false) {
        self.decay = decay
        self.warmUp = warmUp
        shadow = parameters.map(\.data)
    }

    /// The decay the next update uses.
    public var currentDecay: Float {
        guard warmUp else { return decay }
        let n = Float(updates + 1)
        return min(decay, (1 + n) / (10 + n))
    }

    public mutating func update(from parameters: [Tensor]) {
        let decay = currentDecay
        updates += 1
        for (index, p) in parameters.enumerated() {
            precondition(p.count == shadow[index].count, "parameter \(index) changed size")
            withPointers(p.data) { x in
                withMutablePointers(&shadow[index]) { shadow in
                    for i in 0..<p.count { shadow[i] = decay * shadow[i] + (1 - decay) * x[i] }
                }
            }
        }
    }
}

extension Optimizer {
    /// `rule(x, state…, g)` for every element of a parameter, through pointers: indexing the
    /// parameter's array (a class property) and the nested state arrays checked exclusivity,
    /// bounds and uniqueness at every element, on the thread that the other workers wait for.
    static func update(_ x: inout [Float], _ state: inout [Float], _ gradient: [Float],
                       _ rule: (inout Float, inout Float, Float) -> Void) {
        precondition(x.count == state.count && x.count == gradient.count, "a parameter, its state and its gradient differ in size")
        let count = x.count
        withPointers(gradient) { g in
            withMutablePointers(&x, &state) { x, state in
                for i in 0..<count { rule(&x[i], &state[i], g[i]) }
            }
        }
    }

    static func update(_ x: inout [Float], _ first: inout [Float], _ second: inout [Float], _ gradient: [Float],
                       _ rule: (inout Float, inout Float, inout Float, Float) -> Void) {
        precondition(x.count == first.count && x.count == second.count && x.count == gradient.count,
                     "a parameter, its state and its gradient differ in size")
        let count = x.count
        withPointers(gradient) { g in
            withMutablePointers(&x, &first, &second) { x, first, second in
                for i in 0..<count { rule(&x[i], &first[i], &second[i], g[i]) }
            }
        }
    }
}
