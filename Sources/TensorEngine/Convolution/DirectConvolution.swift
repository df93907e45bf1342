import CConvolution
import Dispatch

/// The 3×3, padding-1 convolutions of our networks, stride 1 or 2, without im2col
/// (`CConvolution`): each output row grows in AVX-512 registers, eight output channels at a
/// time, from the image padded once. With OpenBLAS's fast kernels, im2col's copy of every pixel nine times and
/// OpenBLAS's packing of that copy again were most of these layers' time (perf on the daemon:
/// im2col 13%, packing 9%, against 25% in the multiplications themselves).
///
/// Only where the processor runs AVX-512 and the output channels are a multiple of eight;
/// everything else goes through im2col and sgemm as before.
enum DirectConvolution {
    /// The processor and its OS run the kernel: read once.
    static let available = OpenBLASKernels.processorSupport.avx512

    static func applies(to geometry: ConvolutionGeometry, outputs: Int) -> Bool {
        available && geometry.kernelHeight == 3 && geometry.kernelWidth == 3 && (1...2).contains(geometry.stride) && geometry.padding == 1
            && outputs % Int(RADSTREAM_DIRECT_OUTPUT_BLOCK) == 0
    }

    /// One image (`geometry.channels` planes) by `weight` (outputs × channels × 3 × 3) into
    /// `output` (outputs planes). With `parallel`, the output channels are cut among the
    /// engine's workers (each pads the image for itself: a fraction of the work it saves).
    static func convolve(_ image: UnsafePointer<Float>, _ geometry: ConvolutionGeometry, weight: UnsafePointer<Float>,
                         outputs: Int, into output: UnsafeMutablePointer<Float>, parallel: Bool) {
        let block = Int(RADSTREAM_DIRECT_OUTPUT_BLOCK)
        let (channels, height, width, stride) = (geometry.channels, geometry.height, geometry.width, geometry.stride)
        let outputPixels = geometry.outputPixels
        let workers = parallel ? min(EngineWorkers.count, outputs / block) : 1
        nonisolated(unsafe) let (image, weight, output) = (image, weight, output)
        @Sendable func run(_ worker: Int) {
            // Whole blocks of output channels per worker, as even as they come.
            let blocks = outputs / block
            let first = worker * blocks / workers * block, last = (worker + 1) * blocks / workers * block
            guard last > first else { return }
            let scratch = radstream_convolve3x3_scratch(Int32(channels), Int32(height), Int32(width), Int32(stride), Int32(last - first))
            ScratchMemory.with(.padded, count: scratch) { buffer in
                radstream_convolve3x3_avx512(image, Int32(channels), Int32(height), Int32(width), Int32(stride),
                                             weight + first * channels * 9, Int32(last - first),
                                             output + first * outputPixels, buffer)
            }
        }
        if workers > 1 { DispatchQueue.concurrentPerform(iterations: workers, execute: run) } else { run(0) }
    }

    /// The weight gradient takes it at stride 1 with an even number of output channels.
    static func appliesToWeightGradient(of geometry: ConvolutionGeometry, outputs: Int) -> Bool {
        available && geometry.kernelHeight == 3 && geometry.kernelWidth == 3 && geometry.stride == 1 && geometry.padding == 1
            && outputs % 2 == 0
    }

    /// Adds one image's weight gradient (its input and its output gradient) into `weightGradient`
    /// (outputs × channels × 3 × 3). With `parallel`, pairs of output channels are cut among the
    /// engine's workers, which write disjoint rows of the gradient.
    static func accumulateWeightGradient(_ image: UnsafePointer<Float>, _ geometry: ConvolutionGeometry,
                                         outputGradient: UnsafePointer<Float>, outputs: Int,
                                         into weightGradient: UnsafeMutablePointer<Float>, parallel: Bool) {
        let (channels, height, width) = (geometry.channels, geometry.height, geometry.width)
        let pairs = outputs / 2
        let workers = parallel ? min(EngineWorkers.count, pairs) : 1
        nonisolated(unsafe) let (image, outputGradient, weightGradient) = (image, outputGradient, weightGradient)
        @Sendable func run(_ worker: Int) {
            let first = worker * pairs / workers * 2, last = (worker + 1) * pairs / workers * 2
            guard last > first else { return }
            let scratch = radstream_convolve3x3_scratch(Int32(channels), Int32(height), Int32(width), 1, 0)
            ScratchMemory.with(.padded, count: scratch) { buffer in
                radstream_convolve3x3_weight_gradient_avx512(image, Int32(channels), Int32(height), Int32(width),
                                                             outputGradient + first * height * width, Int32(last - first),
                                                             weightGradient + first * channels * 9, buffer)
            }
        }
        if workers > 1 { DispatchQueue.concurrentPerform(iterations: workers, execute: run) } else { run(0) }
    }
}
