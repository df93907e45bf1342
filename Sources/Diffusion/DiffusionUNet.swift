import Foundation
import TensorEngine

/// The joint model of Mediffusion (Kaleta et al., 2024) at RadStream's 28-pixel side: a
/// pixel-space DDPM U-Net that predicts the noise ε in a noised film, and a classifier head that
/// reads the globally pooled outputs of its encoder blocks and its middle block — one trunk that
/// learns from every film (denoising needs no label) and classifies from the labelled ones.
///
/// Levels at full, half and quarter side (28/14/7); each has `blocksPerLevel` residual blocks
/// (group norm + SiLU, 3×3 convolution, the time embedding added per channel, again, and a
/// shortcut), a strided convolution down between levels; a middle of two blocks; a decoder that
/// mirrors it with one block more per level, each reading the matching encoder output
/// (concatenated), and nearest-neighbour upsampling with a convolution between levels.
/// Images are in [−1, 1].
public final class DiffusionUNet {
    public struct Configuration: Codable, Sendable, Equatable {
        public var side = 28
        public var inputChannels = 1
        /// Channels at each level, full resolution first.
        public var channels = [32, 64, 64]
        public var blocksPerLevel = 1
        public var groups = 8
        /// The width of the time embedding.
        public var timeDimension = 128
        public var classes = 2
        public var classifierHidden = 128

        public init(side: Int = 28, channels: [Int] = [32, 64, 64], blocksPerLevel: Int = 1, groups: Int = 8,
                    timeDimension: Int = 128, classes: Int = 2, classifierHidden: Int = 128) {
            (self.side, self.channels, self.blocksPerLevel, self.groups) = (side, channels, blocksPerLevel, groups)
            (self.timeDimension, self.classes, self.classifierHidden) = (timeDimension, classes, classifierHidden)
        }

        /// Widths the classifier head reads: every encoder block's output, then the middle's.
        var pooledWidths: [Int] {
            channels.flatMap { [Int](repeating: $0, count: blocksPerLevel) } + [channels.last!]
        }

        func validate() throws {
            guard !channels.isEmpty, channels.allSatisfy({ $0 > 0 && $0 % groups == 0 }) else {
                throw DiffusionError("every level's channels must be a positive multiple of the \(groups) groups: \(channels)")
            }
            guard side % (1 << (channels.count - 1)) == 0 else {
                throw DiffusionError("side \(side) does not halve \(channels.count - 1) times")
            }
            guard blocksPerLevel >= 1, timeDimension >= 2, timeDimension % 2 == 0, classes >= 2, classifierHidden >= 1 else {
                throw DiffusionError("blocks per level ≥ 1, an even time dimension, at least two classes")
            }
        }
    }

    public let configuration: Configuration
    /// Trainable tensors by name (the names of the checkpoint).
    public private(set) var parameters: [String: Tensor] = [:]

    public init(configuration: Configuration = Configuration(), seed: UInt64) throws {
        try configuration.validate()
        self.configuration = configuration
        var generator = SeededGenerator(seed: seed)
        let c = configuration.channels, time = configuration.timeDimension
        addLinear("time.in", from: c[0], to: time, generator: &generator)
        addLinear("time.out", from: time, to: time, generator: &generator)
        addConvolution("input", from: configuration.inputChannels, to: c[0], kernel: 3, generator: &generator)
        var skipWidths = [c[0]], width = c[0]
        for (level, levelWidth) in c.enumerated() {
            for block in 0..<configuration.blocksPerLevel {
                addResidualBlock("down\(level).block\(block)", from: width, to: levelWidth, generator: &generator)
                width = levelWidth
                skipWidths.append(width)
            }
            if level < c.count - 1 {
                addConvolution("down\(level).downsample", from: width, to: width, kernel: 3, generator: &generator)
                skipWidths.append(width)
            }
        }
        addResidualBlock("middle.block0", from: width, to: width, generator: &generator)
        addResidualBlock("middle.block1", from: width, to: width, generator: &generator)
        for level in c.indices.reversed() {
            for block in 0...configuration.blocksPerLevel {
                addResidualBlock("up\(level).block\(block)", from: width + skipWidths.removeLast(), to: c[level], generator: &generator)
                width = c[level]
            }
            if level > 0 { addConvolution("up\(level).upsample", from: width, to: width, kernel: 3, generator: &generator) }
        }
        addNorm("output.norm", channels: width)
        addConvolution("output", from: width, to: configuration.inputChannels, kernel: 3, generator: &generator, zero: true)
        let pooled = configuration.pooledWidths.reduce(0, +)
        addLinear("classifier.hidden", from: pooled, to: configuration.classifierHidden, generator: &generator)
        addLinear("classifier.out", from: configuration.classifierHidden, to: configuration.classes, generator: &generator)
    }

    init(configuration: Configuration, parameters: [String: Tensor]) {
        self.configuration = configuration
        self.parameters = parameters
    }

    /// The same network with weights that record no graph: what sampling and inference run on.
    public func frozen() -> DiffusionUNet {
        DiffusionUNet(configuration: configuration, parameters: parameters.mapValues { $0.detached() })
    }

    public var parameterCount: Int { parameters.values.reduce(0) { $0 + $1.count } }

    // MARK: Forward

    /// What the encoder and the middle leave: the middle's output, the skips for the decoder,
    /// and the pooled features for the classifier head.
    public struct Encoding {
        let hidden: Tensor
        let skips: [Tensor]
        let time: Tensor
        public let pooled: Tensor
    }

    /// The predicted noise ε̂ for noised images (N × 1 × side × side) at their steps.
    public func callAsFunction(_ images: Tensor, steps: [Int]) -> Tensor {
        decode(encode(images, steps: steps))
    }

    /// Class logits (N × classes) for clean images, read at step 0.
    public func logits(_ images: Tensor) -> Tensor {
        classify(encode(images, steps: [Int](repeating: 0, count: images.shape[0])).pooled)
    }

    public func encode(_ images: Tensor, steps: [Int]) -> Encoding {
        precondition(images.rank == 4 && images.shape[0] == steps.count, "images \(images.shape) for \(steps.count) steps")
        let c = configuration.channels
        let time = linear(linear(Self.timestepEmbedding(steps, width: c[0]), "time.in").silu(), "time.out").silu()
        var x = convolution(images, "input")
        var skips = [x], pooled: [Tensor] = []
        for level in c.indices {
            for block in 0..<configuration.blocksPerLevel {
                x = residualBlock(x, "down\(level).block\(block)", time: time)
                skips.append(x)
                pooled.append(x.globalAveragePool())
            }
            if level < c.count - 1 {
                x = convolution(x, "down\(level).downsample", stride: 2)
                skips.append(x)
            }
        }
        x = residualBlock(residualBlock(x, "middle.block0", time: time), "middle.block1", time: time)
        pooled.append(x.globalAveragePool())
        return Encoding(hidden: x, skips: skips, time: time, pooled: Tensor.concat(pooled, axis: 1))
    }

    public func decode(_ encoding: Encoding) -> Tensor {
        var x = encoding.hidden, skips = encoding.skips
        for level in configuration.channels.indices.reversed() {
            for block in 0...configuration.blocksPerLevel {
                x = residualBlock(Tensor.concat([x, skips.removeLast()], axis: 1), "up\(level).block\(block)", time: encoding.time)
            }
            if level > 0 { x = convolution(x.upsampled2d(factor: 2), "up\(level).upsample") }
        }
        return convolution(norm(x, "output.norm"), "output")
    }

    /// The classifier head: a hidden layer with SiLU over the pooled features, then the logits.
    public func classify(_ pooled: Tensor) -> Tensor {
        linear(linear(pooled, "classifier.hidden").silu(), "classifier.out")
    }

    /// Sinusoidal embeddings of the steps (N × width): sines and cosines of the step at
    /// frequencies falling geometrically from 1 to 1/10,000 (Vaswani et al.; Ho et al.).
    public static func timestepEmbedding(_ steps: [Int], width: Int) -> Tensor {
        let half = width / 2
        var data = [Float](repeating: 0, count: steps.count * width)
        for (row, step) in steps.enumerated() {
            for i in 0..<half {
                let angle = Double(step) * Foundation.exp(-Foundation.log(10_000.0) * Double(i) / Double(half))
                data[row * width + i] = Float(Foundation.sin(angle))
                data[row * width + half + i] = Float(Foundation.cos(angle))
            }
        }
        return Tensor(shape: [steps.count, width], data: data)
    }

    // MARK: Layers

    private func residualBlock(_ x: Tensor, _ name: String, time: Tensor) -> Tensor {
        var h = convolution(norm(x, "\(name).norm1"), "\(name).conv1")
        h = h.addingPlaneBias(linear(time, "\(name).time"))
        h = convolution(norm(h, "\(name).norm2"), "\(name).conv2")
        let shortcut = parameters["\(name).shortcut.weight"] == nil ? x : convolution(x, "\(name).shortcut", padding: 0)
        return h + shortcut
    }

    private func norm(_ x: Tensor, _ name: String) -> Tensor {
        x.groupNorm(groups: configuration.groups, scale: parameters["\(name).weight"]!, shift: parameters["\(name).bias"]!, silu: true)
    }

    private func convolution(_ x: Tensor, _ name: String, stride: Int = 1, padding: Int = 1) -> Tensor {
        x.conv2d(parameters["\(name).weight"]!, stride: stride, padding: padding).addingPlaneBias(parameters["\(name).bias"]!)
    }

    private func linear(_ x: Tensor, _ name: String) -> Tensor {
        x.matmul(parameters["\(name).weight"]!.transposed()) + parameters["\(name).bias"]!
    }

    // MARK: Parameters

    private func addResidualBlock(_ name: String, from inputs: Int, to outputs: Int, generator: inout SeededGenerator) {
        addNorm("\(name).norm1", channels: inputs)
        addConvolution("\(name).conv1", from: inputs, to: outputs, kernel: 3, generator: &generator)
        addLinear("\(name).time", from: configuration.timeDimension, to: outputs, generator: &generator)
        addNorm("\(name).norm2", channels: outputs)
        // Zero: each block starts as its shortcut, so a deep stack starts near the identity.
        addConvolution("\(name).conv2", from: outputs, to: outputs, kernel: 3, generator: &generator, zero: true)
        if inputs != outputs { addConvolution("\(name).shortcut", from: inputs, to: outputs, kernel: 1, generator: &generator) }
    }

    private func addConvolution(_ name: String, from inputs: Int, to outputs: Int, kernel: Int, generator: inout SeededGenerator,
                                zero: Bool = false) {
        let shape = [outputs, inputs, kernel, kernel]
        parameters["\(name).weight"] = zero ? Tensor.zeros(shape, requiresGrad: true)
            : Tensor.kaimingNormal(shape, fanIn: inputs * kernel * kernel, using: &generator)
        parameters["\(name).bias"] = Tensor.zeros([outputs], requiresGrad: true)
    }

    private func addLinear(_ name: String, from inputs: Int, to outputs: Int, generator: inout SeededGenerator) {
        parameters["\(name).weight"] = Tensor.kaimingNormal([outputs, inputs], fanIn: inputs, using: &generator)
        parameters["\(name).bias"] = Tensor.zeros([outputs], requiresGrad: true)
    }

    private func addNorm(_ name: String, channels: Int) {
        parameters["\(name).weight"] = Tensor(shape: [channels], data: [Float](repeating: 1, count: channels), requiresGrad: true)
        parameters["\(name).bias"] = Tensor.zeros([channels], requiresGrad: true)
    }
}

public struct DiffusionError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
