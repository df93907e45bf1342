import CConvolution
import Dispatch

/// The 3×3, padding-1 convolutions of our networks, stride 1 or 2, without im2col
/// (`CConvolution`), from the image padded once, in AVX-512 registers: either each output row
/// grows there, eight output channels at a time (pixels in the vector lanes), or tiles of four
/// pixels by up to 64 output channels do (channels in the lanes: for maps whose rows fill less
/// than a vector, and for 32 channels or more). With OpenBLAS's fast kernels, im2col's copy of
/// every pixel nine times and OpenBLAS's packing of that copy again were most of these layers'
/// time (perf on the daemon: im2col 13%, packing 9%, against 25% in the multiplications
/// themselves). On the Zen 5 whose environment asks OpenBLAS for its AVX2 kernels, the
/// channel-lane kernel runs the 7×7 maps at twice the rate of im2col and sgemm.
///
/// Only where the processor runs AVX-512 and the output channels are a multiple of eight (16 in
/// the channel lanes; two for the weight gradient, at stride 1); everything else goes through
/// im2col and sgemm as before.
enum DirectConvolution {
    /// The processor and its OS run the kernels.
    static var available: Bool { ProcessorFeatures.avx512 }

    /// A 3×3 window with padding 1 at `strides`, on a processor that runs the kernels.
    private static func takes(_ geometry: ConvolutionGeometry, strides: ClosedRange<Int>) -> Bool {
        available && geometry.kernelHeight == 3 && geometry.kernelWidth == 3 && strides.contains(geometry.stride) && geometry.padding == 1
    }

    static func applies(to geometry: ConvolutionGeometry, outputs: Int) -> Bool {
        takes(geometry, strides: 1...2) && outputs % Int(RADSTREAM_DIRECT_OUTPUT_BLOCK) == 0
    }

    /// Output channels the channel-lane kernel takes a multiple of: one vector's lanes.
    static let channelLaneGroup = 16

    /// Where the channel-lane kernel is what runs: a geometry it takes, at small maps or with 32
    /// output channels or more (`Tensor.convolve` says why).
    static func runsInChannelLanes(_ geometry: ConvolutionGeometry, outputs: Int) -> Bool {
        appliesInChannelLanes(geometry, outputs: outputs) && (!geometry.multipliesPerImage || outputs >= 2 * channelLaneGroup)
    }

    /// The channel-lane kernel (`radstream_convolve3x3_channel_lanes_avx512`): output channels a
    /// multiple of 16.
    static func appliesInChannelLanes(_ geometry: ConvolutionGeometry, outputs: Int) -> Bool {
        takes(geometry, strides: 1...2) && outputs % channelLaneGroup == 0
    }

    /// The weight gradient takes it at stride 1 with an even number of output channels.
    static func appliesToWeightGradient(of geometry: ConvolutionGeometry, outputs: Int) -> Bool {
        takes(geometry, strides: 1...1) && outputs % 2 == 0
    }

    /// `body` over output channels [first, last), `outputs` cut into whole groups of `group`:
    /// with `parallel`, one range per engine worker, as even as they come (each worker pads the
    /// image for itself: a fraction of the work it saves), else all of them on this thread.
    /// `body` does not escape: a closure that did would be allocated at every call, and a warmed
    /// up inference plan allocates nothing.
    private static func spread(_ outputs: Int, group: Int, parallel: Bool, _ body: @Sendable (Int, Int) -> Void) {
        let groups = outputs / group
        let workers = parallel ? min(EngineWorkers.count, groups) : 1
        @Sendable func run(_ worker: Int) {
            let first = worker * groups / workers * group, last = (worker + 1) * groups / workers * group
            if last > first { body(first, last) }
        }
        if workers > 1 { DispatchQueue.concurrentPerform(iterations: workers, execute: run) } else { run(0) }
    }

    /// One image (`geometry.channels` planes) by `weight` (outputs × channels × 3 × 3) into
    /// `output` (outputs planes); with `parallel`, its output channels cut among the workers.
    static func convolve(_ image: UnsafePointer<Float>, _ geometry: ConvolutionGeometry, weight: UnsafePointer<Float>,
                         outputs: Int, into output: UnsafeMutablePointer<Float>, parallel: Bool) {
        let (channels, height, width, stride) = (Int32(geometry.channels), Int32(geometry.height), Int32(geometry.width), Int32(geometry.stride))
        let outputPixels = geometry.outputPixels, taps = geometry.channels * 9
        nonisolated(unsafe) let (image, weight, output) = (image, weight, output)
        spread(outputs, group: Int(RADSTREAM_DIRECT_OUTPUT_BLOCK), parallel: parallel) { first, last in
            let scratch = radstream_convolve3x3_scratch(channels, height, width, stride, Int32(last - first))
            ScratchMemory.with(.padded, count: scratch) { buffer in
                radstream_convolve3x3_avx512(image, channels, height, width, stride, weight + first * taps, Int32(last - first),
                                             output + first * outputPixels, buffer)
            }
        }
    }

    /// `body` with `weight` (outputs × channels × 3 × 3) packed as the channel-lane kernel reads
    /// it, in this thread's scratch: once for a whole batch, which every worker then reads.
    static func withChannelLaneWeights<R>(_ weight: UnsafePointer<Float>, _ geometry: ConvolutionGeometry, outputs: Int,
                                          _ body: (UnsafePointer<Float>) -> R) -> R {
        ScratchMemory.with(.packedWeights, count: outputs * geometry.channels * 9) { packed in
            radstream_convolve3x3_channel_lanes_pack(weight, Int32(geometry.channels), Int32(outputs), packed)
            return body(packed)
        }
    }

    /// One image by the packed weights (`withChannelLaneWeights`) into `output` (outputs
    /// planes), through the kernel that holds output channels in the vector lanes; with
    /// `parallel`, its output channels cut among the workers.
    static func convolveInChannelLanes(_ image: UnsafePointer<Float>, _ geometry: ConvolutionGeometry, packedWeight: UnsafePointer<Float>,
                                       outputs: Int, into output: UnsafeMutablePointer<Float>, parallel: Bool) {
        let (channels, height, width, stride) = (Int32(geometry.channels), Int32(geometry.height), Int32(geometry.width), Int32(geometry.stride))
        let outputPixels = geometry.outputPixels
        nonisolated(unsafe) let (image, packedWeight, output) = (image, packedWeight, output)
        spread(outputs, group: channelLaneGroup, parallel: parallel) { first, last in
            ScratchMemory.with(.padded, count: radstream_convolve3x3_channel_lanes_scratch(channels, height, width)) { buffer in
                radstream_convolve3x3_channel_lanes_avx512(image, channels, height, width, stride, packedWeight + first, Int32(outputs),
                                                           Int32(last - first), output + first * outputPixels, buffer)
            }
        }
    }

    /// Adds one image's weight gradient (its input and its output gradient) into `weightGradient`
    /// (outputs × channels × 3 × 3); with `parallel`, pairs of output channels cut among the
    /// workers, which write disjoint rows of the gradient.
    static func accumulateWeightGradient(_ image: UnsafePointer<Float>, _ geometry: ConvolutionGeometry,
                                         outputGradient: UnsafePointer<Float>, outputs: Int,
                                         into weightGradient: UnsafeMutablePointer<Float>, parallel: Bool) {
        let (channels, height, width) = (Int32(geometry.channels), Int32(geometry.height), Int32(geometry.width))
        let pixels = geometry.height * geometry.width, taps = geometry.channels * 9
        nonisolated(unsafe) let (image, outputGradient, weightGradient) = (image, outputGradient, weightGradient)
        spread(outputs, group: 2, parallel: parallel) { first, last in
            ScratchMemory.with(.padded, count: radstream_convolve3x3_scratch(channels, height, width, 1, 0)) { buffer in
                radstream_convolve3x3_weight_gradient_avx512(image, channels, height, width, outputGradient + first * pixels,
                                                             Int32(last - first), weightGradient + first * taps, buffer)
            }
        }
    }
}

/// A convolution's weight laid out once as its direct kernel reads it, for a caller whose weights
/// never change (an inference plan): packed at every call, a 64→64 weight takes 5 µs, a third of
/// the convolution of one 7×7 image by it (17 µs, one core), which is what a plan at batch 1 does.
public struct PackedConvolutionWeights: Sendable {
    let values: [Float]

    /// Nil where the convolution reads its weight as it is (every kernel but the channel-lane one).
    public init?(_ weight: [Float], geometry: ConvolutionGeometry, outputs: Int) {
        guard DirectConvolution.runsInChannelLanes(geometry, outputs: outputs) else { return nil }
        precondition(weight.count == outputs * geometry.channels * 9, "a 3×3 weight of \(outputs) × \(geometry.channels) expected")
        var values = [Float](repeating: 0, count: weight.count)
        weight.withUnsafeBufferPointer { w in
            values.withUnsafeMutableBufferPointer { packed in
                radstream_convolve3x3_channel_lanes_pack(w.baseAddress!, Int32(geometry.channels), Int32(outputs), packed.baseAddress!)
            }
        }
        self.values = values
    }
}
