/// The sizes of a 2-D convolution or pooling window over an NCHW batch.
public struct ConvolutionGeometry: Sendable, Equatable {
    public let batch: Int, channels: Int, height: Int, width: Int
    public let kernelHeight: Int, kernelWidth: Int
    public let stride: Int, padding: Int

    public var outputHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    public var outputWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// Rows of the im2col matrix: one per (channel, kernel row, kernel column).
    public var patchSize: Int { channels * kernelHeight * kernelWidth }
    public var outputPixels: Int { outputHeight * outputWidth }

    /// Images per im2col chunk: as many as keep the column buffer under the limit given at
    /// creation, so that each sgemm is wide (one per chunk, not per image) and memory bounded —
    /// but no wider than 8,192 columns: past that, a layer with a short patch (the 1-channel
    /// stem, k = 9) spends its time packing B instead of multiplying.
    public let imagesPerChunk: Int

    /// The geometry `conv2d` uses for an NCHW input and a square kernel: what a plan made once
    /// hands to `Tensor.convolve` at every call.
    public init(convolving input: [Int], kernel: Int, stride: Int, padding: Int) {
        self.init(input: input, kernelHeight: kernel, kernelWidth: kernel, stride: stride, padding: padding,
                  columnLimit: Tensor.columnBufferLimit)
    }

    init(input: [Int], kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int, columnLimit: Int = 0) {
        precondition(input.count == 4, "expected an NCHW input, not \(input)")
        (batch, channels, height, width) = (input[0], input[1], input[2], input[3])
        (self.kernelHeight, self.kernelWidth, self.stride, self.padding) = (kernelHeight, kernelWidth, stride, padding)
        let outputHeight = (height + 2 * padding - kernelHeight) / stride + 1
        let outputWidth = (width + 2 * padding - kernelWidth) / stride + 1
        precondition(stride > 0 && padding >= 0 && outputHeight > 0 && outputWidth > 0,
                     "window \(kernelHeight)×\(kernelWidth) stride \(stride) padding \(padding) does not fit \(input)")
        let patch = channels * kernelHeight * kernelWidth
        let pixels = outputHeight * outputWidth
        imagesPerChunk = max(1, min(batch, columnLimit / max(1, patch * pixels), 8192 / pixels))
    }

    /// Images with at least this many output pixels are multiplied one by one, straight into the
    /// output: the product is wide enough alone, its result is already in NCHW order (no copy to
    /// lay it out again), and one image's columns stay in cache between im2col and sgemm.
    static let pixelsMultipliedPerImage = 128
    public var multipliesPerImage: Bool { outputPixels >= Self.pixelsMultipliedPerImage }

    /// How many chunks a pass over the batch cuts it into for `workers` workers: enough to keep
    /// each under `imagesPerChunk`, and a multiple of the workers so that none waits for the
    /// others (four chunks of 41, 41, 41 and 5 images left one of two workers idle a third of
    /// the time), as long as each chunk keeps a product wide enough. A batch too small for that
    /// is one chunk, whose product is cut among the workers instead; its im2col and copies then
    /// run on one thread (cutting 7×7 layers into two chunks made a training step 10–15% faster).
    public func chunkCount(workers: Int) -> Int {
        let needed = (batch + imagesPerChunk - 1) / imagesPerChunk
        guard needed > 1 || batch * outputPixels >= 2 * Self.narrowestSharedProduct else { return 1 }
        return min(batch, (needed + workers - 1) / workers * workers)
    }

    /// Output columns below which splitting a chunk among workers costs more than it saves.
    static let narrowestSharedProduct = 1024

    /// The images of chunk `index` of `count`: sizes differ by one at most.
    public func images(ofChunk index: Int, of count: Int) -> Range<Int> {
        (index * batch / count)..<((index + 1) * batch / count)
    }

    /// The geometry whose convolution of the output gradient by the flipped, transposed kernel
    /// gives the input gradient, when there is one: stride 1 and a square kernel, padded
    /// k − 1 − p. A copy (im2col) and one product then replace a product k·k times larger in
    /// memory and col2im's scattered additions.
    func inputGradientAsConvolution(outputs: Int) -> ConvolutionGeometry? {
        guard stride == 1, kernelHeight == kernelWidth, padding <= kernelHeight - 1 else { return nil }
        return ConvolutionGeometry(input: [batch, outputs, outputHeight, outputWidth], kernelHeight: kernelHeight,
                                   kernelWidth: kernelWidth, stride: 1, padding: kernelHeight - 1 - padding,
                                   columnLimit: Tensor.columnBufferLimit)
    }

    /// The output columns `ox` of a kernel column `kx` that read inside the image: [first, last).
    private func validColumns(kx: Int) -> (Int, Int) {
        Self.validOutputs(kernelOffset: kx, extent: width, outputs: outputWidth, stride: stride, padding: padding)
    }

    /// The output rows `oy` of a kernel row `ky` that read inside the image: [first, last).
    private func validRows(ky: Int) -> (Int, Int) {
        Self.validOutputs(kernelOffset: ky, extent: height, outputs: outputHeight, stride: stride, padding: padding)
    }

    /// The outputs o whose input o·stride − padding + offset lies in [0, extent).
    private static func validOutputs(kernelOffset: Int, extent: Int, outputs: Int, stride: Int, padding: Int) -> (Int, Int) {
        let first = min(outputs, max(0, (padding - kernelOffset + stride - 1) / stride))
        let last = min(outputs, max(0, (extent - 1 + padding - kernelOffset) / stride + 1))
        return (first, max(first, last))
    }

    /// One image's patches as columns of a (patchSize × leadingDimension) matrix, starting at
    /// `columns`; zero where the window hangs over the padding. Rows of the output that read
    /// only padding are zeroed as one block; the others copy their valid run and zero the rest.
    func im2col(_ image: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, leadingDimension: Int) {
        if stride == 1 && outputWidth == width {
            sameWidthIm2col(image, into: columns, leadingDimension: leadingDimension)
            return
        }
        for ky in 0..<kernelHeight {
            let (firstRow, lastRow) = validRows(ky: ky)
            for kx in 0..<kernelWidth {
                let (first, last) = validColumns(kx: kx)
                for c in 0..<channels {
                    let target = columns + ((c * kernelHeight + ky) * kernelWidth + kx) * leadingDimension
                    target.initialize(repeating: 0, count: firstRow * outputWidth)
                    (target + lastRow * outputWidth).initialize(repeating: 0, count: (outputHeight - lastRow) * outputWidth)
                    guard lastRow > firstRow else { continue }
                    // Row by row, both pointers stepping: the valid run, then the edges' zeros.
                    var out = target + firstRow * outputWidth + first
                    var source = image + (c * height + firstRow * stride - padding + ky) * width - padding + kx + first * stride
                    let (run, rowStep) = (last - first, stride * width)
                    for _ in firstRow..<lastRow {
                        if stride == 2 {
                            VectorKernels.everyOther(source, into: out, count: run)
                        } else {
                            for ox in 0..<run { out[ox] = source[ox &* stride] }
                        }
                        out += outputWidth
                        source += rowStep
                    }
                    if first > 0 || last < outputWidth {
                        for oy in firstRow..<lastRow {
                            let row = target + oy * outputWidth
                            for ox in 0..<first { row[ox] = 0 }
                            for ox in last..<outputWidth { row[ox] = 0 }
                        }
                    }
                }
            }
        }
    }

    /// im2col for stride 1 and "same" width (the 3×3 padding-1 convolutions that do most of our
    /// networks' work). A kernel column shifts every row by the same amount, so the valid rows of
    /// a patch row are one contiguous run of the image: one copy per (channel, ky, kx), then the
    /// few columns that wrapped across a row's edge are zeroed, column by column. Row by row, the
    /// same work took thousands of copies of 7 to 28 floats per image, and a third of the
    /// daemon's CPU.
    private func sameWidthIm2col(_ image: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, leadingDimension: Int) {
        for ky in 0..<kernelHeight {
            // Output rows whose source row y = oy − padding + ky lies in the image.
            let (firstRow, lastRow) = validRows(ky: ky)
            let rows = lastRow - firstRow
            for kx in 0..<kernelWidth {
                let shift = kx - padding  // source x = ox + shift
                // Copy without reading outside the plane: skip what would come from before its
                // first or after its last pixel; those positions are zeroed after the copy anyway.
                let skipFront = min(width, max(0, -shift)), skipBack = min(width, max(0, shift))
                for c in 0..<channels {
                    let target = columns + ((c * kernelHeight + ky) * kernelWidth + kx) * leadingDimension
                    target.initialize(repeating: 0, count: firstRow * width)
                    (target + lastRow * width).initialize(repeating: 0, count: (outputHeight - lastRow) * width)
                    guard rows > 0 else { continue }
                    let out = target + firstRow * width
                    let source = image + (c * height + firstRow - padding + ky) * width + shift
                    let count = rows * width - skipFront - skipBack
                    if count > 0 { (out + skipFront).update(from: source + skipFront, count: count) }
                    // The columns a row's copy took from its neighbour (or skipped): zero, a column at a time.
                    for ox in 0..<skipFront { Self.zeroColumn(out + ox, rows: rows, width: width) }
                    for ox in (width - skipBack)..<width { Self.zeroColumn(out + ox, rows: rows, width: width) }
                }
            }
        }
    }

    @inline(__always)
    private static func zeroColumn(_ start: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        var pointer = start
        for _ in 0..<rows {
            pointer.pointee = 0
            pointer += width
        }
    }

    /// The adjoint of `im2col`: adds each column entry back to the pixel it came from (rows
    /// and columns that read padding have nowhere to go). Its loops repeat im2col's on purpose:
    /// shared through a closure, this one ran twice as slow (2.4% of a training step, not 1.2%).
    func col2im(_ columns: UnsafePointer<Float>, leadingDimension: Int, into image: UnsafeMutablePointer<Float>) {
        for ky in 0..<kernelHeight {
            let (firstRow, lastRow) = validRows(ky: ky)
            for kx in 0..<kernelWidth {
                let (first, last) = validColumns(kx: kx)
                for c in 0..<channels {
                    let source = columns + ((c * kernelHeight + ky) * kernelWidth + kx) * leadingDimension
                    for oy in firstRow..<lastRow {
                        let target = image + (c * height + oy * stride - padding + ky) * width - padding + kx
                        let from = source + oy * outputWidth
                        for ox in first..<last { target[ox &* stride] += from[ox] }
                    }
                }
            }
        }
    }
}
