import Foundation
import Testing
@testable import TensorEngine

@Suite("Optimizers, schedules and the seeded generator")
struct OptimizerTests {
    /// Minimises (p - 3)² from 0; returns the final value.
    func minimise(_ makeOptimizer: ([Tensor]) -> any Optimizer, steps: Int) -> Float {
        let p = Tensor(shape: [1], data: [0], requiresGrad: true)
        var optimizer = makeOptimizer([p])
        for _ in 0..<steps {
            let difference = p + -3
            (difference * difference).sum().backward()
            optimizer.step()
            #expect(p.grad == nil, "step clears the gradient")
        }
        return p.data[0]
    }

    @Test func sgdAndAdamWConverge() {
        #expect(abs(minimise({ SGD(parameters: $0, learningRate: 0.05, momentum: 0.9) }, steps: 200) - 3) < 1e-2)
        #expect(abs(minimise({ AdamW(parameters: $0, learningRate: 0.1, weightDecay: 0) }, steps: 300) - 3) < 1e-2)
        // Decoupled weight decay pulls the optimum toward zero.
        #expect(minimise({ AdamW(parameters: $0, learningRate: 0.1, weightDecay: 0.5) }, steps: 300) < 2.95)
    }

    /// The first AdamW step moves each weight by the learning rate (m̂/√v̂ = ±1), after decay.
    @Test func adamWFirstStep() {
        let p = Tensor(shape: [2], data: [1, -1], requiresGrad: true)
        p.grad = [0.3, -7]
        var optimizer = AdamW(parameters: [p], learningRate: 0.01, weightDecay: 0.1)
        optimizer.step()
        #expect(abs(p.data[0] - (1 * (1 - 0.001) - 0.01)) < 1e-6)
        #expect(abs(p.data[1] - (-1 * (1 - 0.001) + 0.01)) < 1e-6)
    }

    @Test func clippingBoundsTheGlobalNorm() {
        let a = Tensor(shape: [2], data: [0, 0], requiresGrad: true), b = Tensor(shape: [1], data: [0], requiresGrad: true)
        a.grad = [3, 0]
        b.grad = [4]
        let optimizer = SGD(parameters: [a, b], learningRate: 1)
        #expect(optimizer.clipGradients(maxNorm: 1) == 5)
        let norm = ((a.grad![0] * a.grad![0] + b.grad![0] * b.grad![0])).squareRoot()
        #expect(abs(norm - 1) < 1e-4)
    }

    @Test func cosineScheduleWarmsUpThenDecays() {
        let schedule = CosineSchedule(peak: 1, minimum: 0.1, warmupSteps: 10, totalSteps: 110)
        #expect(abs(schedule.rate(at: 0) - 0.1) < 1e-6)
        #expect(schedule.rate(at: 9) == 1)
        #expect(abs(schedule.rate(at: 60) - 0.55) < 1e-5)
        #expect(abs(schedule.rate(at: 110) - 0.1) < 1e-6)
    }

    @Test func movingAverageFollowsItsStudent() {
        let p = Tensor(shape: [1], data: [0], requiresGrad: true)
        var teacher = ExponentialMovingAverage(of: [p], decay: 0.9)
        p.data = [1]
        teacher.update(from: [p])
        teacher.update(from: [p])
        #expect(abs(teacher.shadow[0][0] - 0.19) < 1e-6)
    }

    @Test func aWarmedUpAverageForgetsTheInitialWeights() {
        let p = Tensor(shape: [1], data: [0], requiresGrad: true)
        var plain = ExponentialMovingAverage(of: [p], decay: 0.999)
        var warm = ExponentialMovingAverage(of: [p], decay: 0.999, warmUp: true)
        #expect(abs(warm.currentDecay - 2.0 / 11.0) < 1e-6)
        p.data = [1]
        for _ in 0..<730 {
            plain.update(from: [p])
            warm.update(from: [p])
        }
        // Without the warm-up about half of the average is still the initial 0; with it, almost none.
        #expect(abs(plain.shadow[0][0] - (1 - Float(pow(0.999, 730.0)))) < 1e-3)
        #expect(warm.shadow[0][0] > 0.999)
        #expect(warm.currentDecay < 0.999 && warm.currentDecay > 0.98)
    }

    @Test func theSameSeedGivesTheSameNumbers() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let first = (0..<5).map { _ in a.next() }
        #expect(first == (0..<5).map { _ in b.next() })
        #expect(first != (0..<5).map { _ in c.next() })
        var generator = SeededGenerator(seed: 7)
        let samples = (0..<20_000).map { _ in Double(generator.normal()) }
        let mean = samples.reduce(0, +) / Double(samples.count)
        let variance = samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(samples.count)
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
    }
}
