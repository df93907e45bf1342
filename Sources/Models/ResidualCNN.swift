import TensorEngine

/// A compact residual CNN for small greyscale images: a 3×3 stem, then one basic block per
/// stage (the first stage at full resolution, each later one halving it), global average
/// pooling and a linear classifier. With channels 16/32/64 it is the project's reference
/// network (about 77k parameters), as the image classifiers use convolutions, not attention.
public final class ResidualCNN {
    public struct Configuration: Codable, Sendable, Equatable {
        public var inputChannels = 1
        public var channels = [16, 32, 64]
        public var classes = 2
        /// Heads of a global self-attention block after the last stage; nil: none (the default,
        /// and what the ablation in models/README.md found no worse).
        public var attentionHeads: Int?

        public init(inputChannels: Int = 1, channels: [Int] = [16, 32, 64], classes: Int = 2, attentionHeads: Int? = nil) {
            self.inputChannels = inputChannels
            self.channels = channels
            self.classes = classes
            self.attentionHeads = attentionHeads
        }
    }

    public let configuration: Configuration
    /// Trainable tensors by name (the names of the checkpoint).
    public private(set) var parameters: [String: Tensor] = [:]
    /// Batch-norm running statistics by layer name, updated in training, used in evaluation.
    public var runningStatistics: [String: (mean: [Float], variance: [Float])] = [:]
    public var batchNormMomentum: Float = 0.1
    /// Each batch norm's evaluation affine (γ/√(var+ε), β − mean·γ/√(var+ε)), folded into the
    /// convolution before it: set in a frozen network only, whose weights no longer change.
    private(set) var foldedBatchNorms: [String: (scale: [Float], shift: [Float])] = [:]

    public init(configuration: Configuration = Configuration(), seed: UInt64) {
        self.configuration = configuration
        var generator = SeededGenerator(seed: seed)
        var previous = configuration.inputChannels
        addConvolution("stem.conv", from: previous, to: configuration.channels[0], kernel: 3, generator: &generator)
        addBatchNorm("stem.bn", channels: configuration.channels[0])
        previous = configuration.channels[0]
        for (stage, width) in configuration.channels.enumerated() {
            let name = "stage\(stage + 1)"
            addConvolution("\(name).conv1", from: previous, to: width, kernel: 3, generator: &generator)
            addBatchNorm("\(name).bn1", channels: width)
            addConvolution("\(name).conv2", from: width, to: width, kernel: 3, generator: &generator)
            addBatchNorm("\(name).bn2", channels: width)
            if stage > 0 || previous != width {
                addConvolution("\(name).shortcut", from: previous, to: width, kernel: 1, generator: &generator)
                addBatchNorm("\(name).shortcut_bn", channels: width)
            }
            previous = width
        }
        if let heads = configuration.attentionHeads {
            precondition(heads > 0 && previous % heads == 0, "\(previous) channels do not split into \(heads) heads")
            parameters["attention.norm.weight"] = Tensor(shape: [previous], data: [Float](repeating: 1, count: previous), requiresGrad: true)
            parameters["attention.norm.bias"] = Tensor.zeros([previous], requiresGrad: true)
            parameters["attention.qkv.weight"] = Tensor.kaimingNormal([3 * previous, previous], fanIn: previous, using: &generator)
            parameters["attention.qkv.bias"] = Tensor.zeros([3 * previous], requiresGrad: true)
            // Zero output projection: the block starts as the identity, so adding it cannot
            // make the starting network worse; what it adds, it learns.
            parameters["attention.out.weight"] = Tensor.zeros([previous, previous], requiresGrad: true)
            parameters["attention.out.bias"] = Tensor.zeros([previous], requiresGrad: true)
        }
        parameters["fc.weight"] = Tensor.kaimingNormal([configuration.classes, previous], fanIn: previous, using: &generator)
        parameters["fc.bias"] = Tensor.zeros([configuration.classes], requiresGrad: true)
    }

    private init(configuration: Configuration, parameters: [String: Tensor],
                 runningStatistics: [String: (mean: [Float], variance: [Float])]) {
        self.configuration = configuration
        self.parameters = parameters
        self.runningStatistics = runningStatistics
    }

    /// The same network with weights that record no graph, and each convolution fused with its
    /// batch norm (and ReLU, and residual sum): what inference runs on.
    public func frozen() -> ResidualCNN {
        let copy = ResidualCNN(configuration: configuration, parameters: parameters.mapValues { $0.detached() },
                               runningStatistics: runningStatistics)
        for (layer, statistics) in runningStatistics {
            let gamma = parameters["\(layer).weight"]!.data, beta = parameters["\(layer).bias"]!.data
            let scale = statistics.variance.indices.map { gamma[$0] / (statistics.variance[$0] + Self.batchNormEpsilon).squareRoot() }
            copy.foldedBatchNorms[layer] = (scale, scale.indices.map { beta[$0] - statistics.mean[$0] * scale[$0] })
        }
        return copy
    }

    static let batchNormEpsilon: Float = 1e-5

    public var parameterCount: Int { parameters.values.reduce(0) { $0 + $1.count } }

    /// Logits (batch × classes) for an NCHW batch.
    public func callAsFunction(_ images: Tensor, training: Bool) -> Tensor {
        classify(features(images, training: training))
    }

    /// The last stage's feature maps (batch × channels × h × w): what Grad-CAM reads.
    public func features(_ images: Tensor, training: Bool) -> Tensor {
        stageOutputs(images, training: training).last!
    }

    /// Every stage's feature maps, the last one's after the attention block when there is one.
    public func stageOutputs(_ images: Tensor, training: Bool) -> [Tensor] {
        var x = convBN(images, "stem.conv", "stem.bn", stride: 1, training: training, relu: true)
        var outputs: [Tensor] = []
        for stage in configuration.channels.indices {
            let name = "stage\(stage + 1)", stride = stage == 0 ? 1 : 2
            let shortcut = parameters["\(name).shortcut.weight"] == nil
                ? x : convBN(x, "\(name).shortcut", "\(name).shortcut_bn", stride: stride, padding: 0, training: training, relu: false)
            let hidden = convBN(x, "\(name).conv1", "\(name).bn1", stride: stride, training: training, relu: true)
            x = convBN(hidden, "\(name).conv2", "\(name).bn2", stride: 1, training: training, adding: shortcut, relu: true)
            outputs.append(x)
        }
        if let heads = configuration.attentionHeads { outputs[outputs.count - 1] = globalAttention(x, heads: heads) }
        return outputs
    }

    /// Pre-norm multi-head self-attention over every position of the maps, with a residual
    /// connection: each position sees the whole image (the block Piater et al. add to CNNs).
    /// No position encoding: zero padding already lets the convolutions mark where they are.
    private func globalAttention(_ x: Tensor, heads: Int) -> Tensor {
        let (batch, channels, positions) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        let depth = channels / heads
        let tokens = x.reshaped([batch, channels, positions]).permuted([0, 2, 1])
        let normed = tokens.layerNorm(scale: parameters["attention.norm.weight"]!, shift: parameters["attention.norm.bias"]!)
        let qkv = (normed.matmul(parameters["attention.qkv.weight"]!.transposed()) + parameters["attention.qkv.bias"]!)
            .reshaped([batch, positions, 3, heads, depth]).permuted([2, 0, 3, 1, 4])  // 3 × batch × heads × positions × depth
        func part(_ index: Int) -> Tensor {
            qkv.slice(axis: 0, start: index, length: 1).reshaped([batch, heads, positions, depth])
        }
        let attended = Tensor.attention(query: part(0), key: part(1), value: part(2))
            .permuted([0, 2, 1, 3]).reshaped([batch, positions, channels])
        let output = tokens + attended.matmul(parameters["attention.out.weight"]!.transposed()) + parameters["attention.out.bias"]!
        return output.permuted([0, 2, 1]).reshaped(x.shape)
    }

    /// Logits from the last stage's feature maps: global average pooling, then the linear layer.
    public func classify(_ features: Tensor) -> Tensor {
        features.globalAveragePool().matmul(parameters["fc.weight"]!.transposed()) + parameters["fc.bias"]!
    }

    /// Convolution, batch norm, then the residual sum and ReLU when asked: fused into one pass in
    /// a frozen network's evaluation, one operation each otherwise (training, gradients).
    private func convBN(_ x: Tensor, _ conv: String, _ bn: String, stride: Int, padding: Int = 1, training: Bool,
                        adding residual: Tensor? = nil, relu: Bool) -> Tensor {
        let weight = parameters["\(conv).weight"]!
        if !training, let folded = foldedBatchNorms[bn], !x.requiresGrad, residual?.requiresGrad != true {
            return x.conv2d(weight, stride: stride, padding: padding,
                            epilogue: ConvolutionEpilogue(scale: folded.scale, shift: folded.shift, residual: residual, relu: relu))
        }
        return batchNorm(x.conv2d(weight, stride: stride, padding: padding), bn, training: training, adding: residual, relu: relu)
    }

    private func batchNorm(_ convolved: Tensor, _ bn: String, training: Bool, adding residual: Tensor?, relu: Bool) -> Tensor {
        let scale = parameters["\(bn).weight"]!, shift = parameters["\(bn).bias"]!
        if !training {
            return convolved.batchNorm(scale: scale, shift: shift, running: runningStatistics[bn]!, adding: residual, relu: relu).output
        }
        let (output, mean, variance) = convolved.batchNorm(scale: scale, shift: shift, adding: residual, relu: relu)
        // Running variance is unbiased, as PyTorch keeps it.
        let n = Float(convolved.count / convolved.shape[1])
        let m = batchNormMomentum
        var running = runningStatistics[bn]!
        for c in mean.indices {
            running.mean[c] = (1 - m) * running.mean[c] + m * mean[c]
            running.variance[c] = (1 - m) * running.variance[c] + m * variance[c] * n / max(n - 1, 1)
        }
        runningStatistics[bn] = running
        return output
    }

    private func addConvolution(_ name: String, from inputs: Int, to outputs: Int, kernel: Int, generator: inout SeededGenerator) {
        parameters["\(name).weight"] = Tensor.kaimingNormal([outputs, inputs, kernel, kernel], fanIn: inputs * kernel * kernel,
                                                            using: &generator)
    }

    private func addBatchNorm(_ name: String, channels: Int) {
        parameters["\(name).weight"] = Tensor(shape: [channels], data: [Float](repeating: 1, count: channels), requiresGrad: true)
        parameters["\(name).bias"] = Tensor.zeros([channels], requiresGrad: true)
        runningStatistics[name] = ([Float](repeating: 0, count: channels), [Float](repeating: 1, count: channels))
    }
}
