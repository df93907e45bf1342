import TensorEngine

extension ResidualCNN {
    /// Inference for batches of a fixed size into memory allocated once: every activation has its
    /// buffer, every convolution its geometry and its folded batch norm, all made when the plan is.
    /// Warmed up (one call, for the threads' scratch buffers), a call allocates nothing on one
    /// worker — the engine's own part on more. Records no graph. Not for the attention ablation.
    ///
    /// Not thread-safe: one plan per thread (its buffers are the call's working memory).
    public final class InferencePlan {
        public let batch: Int
        public let side: Int
        public let classes: Int
        private struct Convolution {
            let geometry: ConvolutionGeometry
            let outputs: Int
            let weight: [Float]
            /// The weight packed once, where its kernel reads it so.
            let packed: PackedConvolutionWeights?
            let epilogue: ConvolutionEpilogue
            let input: Int, output: Int
            /// The buffer added before the ReLU (a residual), if any.
            let residual: Int?
        }

        private let convolutions: [Convolution]
        /// Activations; buffer 0 is the input.
        private let buffers: [UnsafeMutablePointer<Float>]
        private let features: (buffer: Int, channels: Int, pixels: Int)
        /// Each stage's output buffer and its shape (batch first): what an applicability gate pools
        /// and, for the last, what Grad-CAM weighs.
        private let stages: [(buffer: Int, shape: [Int])]
        private let pooled: UnsafeMutablePointer<Float>
        private let fcWeight: [Float], fcBias: [Float]

        /// `network` is frozen (`frozen()`: batch norms folded); `side` the input's.
        public init(network: ResidualCNN, batch: Int, side: Int) throws(CheckpointError) {
            guard network.configuration.attentionHeads == nil else {
                throw CheckpointError("an inference plan covers the residual CNN without its attention block")
            }
            guard network.configuration.inputChannels == 1, batch > 0 else { throw CheckpointError("a plan is for greyscale batches") }
            self.batch = batch
            self.side = side
            classes = network.configuration.classes
            var sizes = [batch * side * side]
            var convolutions: [Convolution] = []
            // Adds a convolution from buffer `input` (of `shape`) into a new buffer; returns it and its shape.
            func convolve(_ input: Int, _ shape: [Int], _ conv: String, _ bn: String, stride: Int, padding: Int = 1,
                          residual: Int? = nil, relu: Bool) throws(CheckpointError) -> (Int, [Int]) {
                let weight = network.parameters["\(conv).weight"]!
                guard let folded = network.folded(bn) else { throw CheckpointError("a plan needs a frozen network (batch norms folded)") }
                let geometry = ConvolutionGeometry(convolving: shape, kernel: weight.shape[2], stride: stride, padding: padding)
                let outputShape = [batch, weight.shape[0], geometry.outputHeight, geometry.outputWidth]
                sizes.append(outputShape.reduce(1, *))
                convolutions.append(Convolution(geometry: geometry, outputs: weight.shape[0], weight: weight.data,
                                                packed: PackedConvolutionWeights(weight.data, geometry: geometry, outputs: weight.shape[0]),
                                                epilogue: ConvolutionEpilogue(scale: folded.scale, shift: folded.shift, relu: relu),
                                                input: input, output: sizes.count - 1, residual: residual))
                return (sizes.count - 1, outputShape)
            }
            var (x, shape) = try convolve(0, [batch, 1, side, side], "stem.conv", "stem.bn", stride: 1, relu: true)
            var stages: [(buffer: Int, shape: [Int])] = []
            for stage in network.configuration.channels.indices {
                let name = "stage\(stage + 1)", stride = stage == 0 ? 1 : 2
                let shortcut = network.parameters["\(name).shortcut.weight"] == nil
                    ? x : try convolve(x, shape, "\(name).shortcut", "\(name).shortcut_bn", stride: stride, padding: 0, relu: false).0
                let (hidden, hiddenShape) = try convolve(x, shape, "\(name).conv1", "\(name).bn1", stride: stride, relu: true)
                (x, shape) = try convolve(hidden, hiddenShape, "\(name).conv2", "\(name).bn2", stride: 1, residual: shortcut, relu: true)
                stages.append((x, shape))
            }
            self.convolutions = convolutions
            self.stages = stages
            buffers = sizes.map { size in
                let buffer = UnsafeMutablePointer<Float>.allocate(capacity: size)
                buffer.initialize(repeating: 0, count: size)  // rows past a partial batch are computed too: from zeros
                return buffer
            }
            features = (x, shape[1], shape[2] * shape[3])
            pooled = .allocate(capacity: batch * shape[1])
            fcWeight = network.parameters["fc.weight"]!.data
            fcBias = network.parameters["fc.bias"]!.data
        }

        deinit {
            for buffer in buffers { buffer.deallocate() }
            pooled.deallocate()
        }

        /// The plan's input buffer (batch × side × side, normalised as the model expects): fill it, then call `run`.
        public var input: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: buffers[0], count: batch * side * side) }

        /// After `run`: each stage's maps (or the last one's only) for the first `images` rows,
        /// copied out (images × C × H × W), as `ResidualCNN.stageOutputs` gives them.
        public func stageMaps(images: Int, lastOnly: Bool = false) -> [Tensor] {
            precondition(images <= batch, "at most \(batch) images")
            return (lastOnly ? [stages.last!] : stages).map { stage in
                let perImage = stage.shape.dropFirst().reduce(1, *)
                return Tensor(shape: [images] + stage.shape.dropFirst(),
                              data: Array(UnsafeBufferPointer(start: buffers[stage.buffer], count: images * perImage)))
            }
        }

        /// Runs the network on `input` and writes the logits (batch × classes) into `logits`.
        public func run(into logits: UnsafeMutableBufferPointer<Float>) {
            precondition(logits.count >= batch * classes, "room for \(batch * classes) logits expected")
            for convolution in convolutions {
                convolution.weight.withUnsafeBufferPointer { weight in
                    Tensor.convolve(convolution.geometry, outputs: convolution.outputs, input: buffers[convolution.input],
                                    weight: weight.baseAddress!, packedWeight: convolution.packed, epilogue: convolution.epilogue,
                                    residual: convolution.residual.map { UnsafePointer(buffers[$0]) }, into: buffers[convolution.output])
                }
            }
            // Global average pooling, then the linear layer.
            let maps = buffers[features.buffer], pixels = features.pixels, channels = features.channels
            for plane in 0..<(batch * channels) {
                var sum: Float = 0
                for i in 0..<pixels { sum += maps[plane * pixels + i] }
                pooled[plane] = sum / Float(pixels)
            }
            fcWeight.withUnsafeBufferPointer { weight in
                BLAS.sgemm(.none, .transposed, m: batch, n: classes, k: channels, a: pooled, b: weight.baseAddress!,
                           c: logits.baseAddress!)
            }
            for row in 0..<batch {
                for column in 0..<classes { logits[row * classes + column] += fcBias[column] }
            }
        }
    }

    /// A batch norm's folded affine, in a frozen network.
    func folded(_ layer: String) -> (scale: [Float], shift: [Float])? { foldedBatchNorms[layer] }
}
