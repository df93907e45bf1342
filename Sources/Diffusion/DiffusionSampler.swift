import Foundation
import TensorEngine

/// Deterministic DDIM sampling (Song et al., 2021; η = 0) with the joint model's own classifier
/// as guidance. At each step the network predicts the noise ε̂ and from it the clean image
/// x̂₀ = (xₜ − √(1 − ᾱₜ)·ε̂)/√ᾱₜ; the head reads x̂₀ (at step 0, as it was trained), and ε̂ is
/// moved along the gradient of its cross-entropy toward the wanted class, scaled by `guidance`
/// — which moves x̂₀ down that loss. Then x_{t'} = √ᾱ_{t'}·x̂₀ + √(1 − ᾱ_{t'})·ε̂.
///
/// Generation starts from pure noise at the last step. A counterfactual starts from the film
/// brought to `startStep` — noised there, as the authors do (closeness to the original then comes
/// from the start step alone), or encoded there by DDIM inversion (unguided, it then returns the
/// film nearly as it was, and what changes is the guidance's work).
public struct DiffusionSampler {
    public let model: JointDiffusionModel
    let network: DiffusionUNet

    public init(model: JointDiffusionModel) {
        self.model = model
        network = model.network.frozen()
    }

    /// Denoises `images` (N × 1 × side × side, in [−1, 1]) that stand at `startStep` down to a
    /// clean estimate in `steps` DDIM steps, guided toward `targets` (one class per image) when
    /// `guidance` > 0; `gradientBlur` (a Gaussian's σ in pixels; 0: none) smooths the head's
    /// gradient before it is added (the head alone would as soon move single pixels as anatomy).
    /// `onStep` hears after each step (for progress); once `stop` says so, the steps end early
    /// and what is returned is no longer a denoised image (the caller that asks must discard it).
    public func denoise(_ images: Tensor, from startStep: Int, steps: Int, guidance: Float, targets: [Int]?, gradientBlur: Float = 0,
                        stop: () -> Bool = { false }, onStep: (Int) -> Void = { _ in }) -> Tensor {
        let schedule = model.schedule.ddimSteps(from: startStep, count: steps)
        let alphaBars = model.alphaBars
        var x = images.data
        let shape = images.shape, batch = shape[0]
        for (index, step) in schedule.enumerated() {
            if stop() { break }
            let current = Tensor(shape: shape, data: x)
            var noise = network(current, steps: [Int](repeating: step, count: batch)).data
            let (a, b) = (Float(alphaBars[step].squareRoot()), Float((1 - alphaBars[step]).squareRoot()))
            var clean = (0..<x.count).map { min(1, max(-1, (x[$0] - b * noise[$0]) / a)) }
            if guidance > 0, let targets {
                var gradient = classifierGradient(Tensor(shape: shape, data: clean), toward: targets)
                if gradientBlur > 0 { gradient = Self.blurred(gradient, side: shape[3], sigma: gradientBlur) }
                for i in noise.indices { noise[i] += guidance * gradient[i] }
                clean = (0..<x.count).map { min(1, max(-1, (x[$0] - b * noise[$0]) / a)) }
            }
            let next = index + 1 < schedule.count ? schedule[index + 1] : nil
            let (nextA, nextB) = next.map { (Float(alphaBars[$0].squareRoot()), Float((1 - alphaBars[$0]).squareRoot())) } ?? (1, 0)
            for i in 0..<x.count { x[i] = nextA * clean[i] + nextB * noise[i] }
            onStep(index + 1)
        }
        return Tensor(shape: shape, data: x)
    }

    /// ∇ of the head's cross-entropy toward `targets` with respect to the images it reads (summed
    /// over the batch: each image's gradient is its own).
    func classifierGradient(_ images: Tensor, toward targets: [Int]) -> [Float] {
        // The frozen weights record nothing: the graph runs from the input alone.
        let input = Tensor(shape: images.shape, data: images.data, requiresGrad: true)
        let logits = network.logits(input)
        (logits.crossEntropy(targets: Tensor.oneHot(targets, classes: logits.shape[1])) * Float(targets.count)).backward()
        return input.grad ?? [Float](repeating: 0, count: images.count)
    }

    /// `count` films of `label`, from seeded noise.
    public func generate(label: Int, count: Int, steps: Int, guidance: Float, seed: UInt64,
                         onStep: (Int) -> Void = { _ in }) -> [[UInt8]] {
        var generator = SeededGenerator(seed: seed)
        let side = model.settings.inputSide
        let noise = Tensor(shape: [count, 1, side, side], data: (0..<(count * side * side)).map { _ in generator.normal() })
        let images = denoise(noise, from: model.schedule.steps - 1, steps: steps, guidance: guidance,
                             targets: [Int](repeating: label, count: count), onStep: onStep)
        return bytes(images)
    }

    /// Each film brought to `startStep` — noised there with seeded noise, or, with `inversion`,
    /// encoded there by running DDIM backwards (so that, unguided, it comes back nearly as it was)
    /// — and denoised toward `targets`.
    public func counterfactuals(_ films: [[UInt8]], targets: [Int], startStep: Int, steps: Int, guidance: Float,
                                seed: UInt64, inversion: Bool = false, gradientBlur: Float = 0,
                                stop: () -> Bool = { false }) -> [[UInt8]] {
        let clean = model.input(films)
        let start: Tensor
        if inversion {
            start = invert(clean, to: startStep, steps: steps, stop: stop)
        } else {
            var generator = SeededGenerator(seed: seed)
            let (a, b) = (Float(model.alphaBars[startStep].squareRoot()), Float((1 - model.alphaBars[startStep]).squareRoot()))
            start = Tensor(shape: clean.shape, data: clean.data.map { a * $0 + b * generator.normal() })
        }
        return bytes(denoise(start, from: startStep, steps: steps, guidance: guidance, targets: targets, gradientBlur: gradientBlur,
                             stop: stop))
    }

    /// DDIM run backwards (Song et al., 2021, §4.3): clean images to the noised images at
    /// `startStep` that unguided DDIM would denoise back to them, over the same steps.
    func invert(_ images: Tensor, to startStep: Int, steps: Int, stop: () -> Bool = { false }) -> Tensor {
        let schedule = Array(model.schedule.ddimSteps(from: startStep, count: steps).reversed())
        let alphaBars = model.alphaBars
        var x = images.data
        var previous: (a: Float, b: Float) = (1, 0)
        for step in schedule {
            if stop() { break }
            let noise = network(Tensor(shape: images.shape, data: x), steps: [Int](repeating: step, count: images.shape[0])).data
            let (a, b) = (Float(alphaBars[step].squareRoot()), Float((1 - alphaBars[step]).squareRoot()))
            for i in x.indices {
                let clean = (x[i] - previous.b * noise[i]) / previous.a
                x[i] = a * clean + b * noise[i]
            }
            previous = (a, b)
        }
        return Tensor(shape: images.shape, data: x)
    }

    /// Each side × side plane convolved with a Gaussian of `sigma` pixels (separable, edges clamped).
    static func blurred(_ planes: [Float], side: Int, sigma: Float) -> [Float] {
        let radius = max(1, Int((2 * sigma).rounded(.up)))
        var kernel = (-radius...radius).map { Foundation.exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        var across = [Float](repeating: 0, count: planes.count), out = across
        let area = side * side
        for base in stride(from: 0, to: planes.count, by: area) {
            for y in 0..<side {
                for x in 0..<side {
                    var sum: Float = 0
                    for k in -radius...radius { sum += kernel[k + radius] * planes[base + y * side + min(side - 1, max(0, x + k))] }
                    across[base + y * side + x] = sum
                }
            }
            for y in 0..<side {
                for x in 0..<side {
                    var sum: Float = 0
                    for k in -radius...radius { sum += kernel[k + radius] * across[base + min(side - 1, max(0, y + k)) * side + x] }
                    out[base + y * side + x] = sum
                }
            }
        }
        return out
    }

    /// Images in [−1, 1] back to bytes, one array per image.
    func bytes(_ images: Tensor) -> [[UInt8]] {
        let pixels = images.count / max(images.shape[0], 1)
        return (0..<images.shape[0]).map { n in
            (0..<pixels).map { UInt8(clamping: Int(((images.data[n * pixels + $0] + 1) * 127.5).rounded())) }
        }
    }
}
