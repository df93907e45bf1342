extension GreyImage {
    /// The largest centred square: what MedMNIST did before resizing, so a chest film keeps its
    /// proportions instead of being squashed.
    public func centreCroppedToSquare() -> GreyImage {
        let side = min(width, height)
        if width == height { return self }
        let x0 = (width - side) / 2, y0 = (height - side) / 2
        var out = [UInt8](repeating: 0, count: side * side)
        pixels.withUnsafeBufferPointer { source in
            for y in 0..<side {
                let from = (y + y0) * width + x0
                out.withUnsafeMutableBufferPointer { target in
                    for x in 0..<side { target[y * side + x] = source[from + x] }
                }
            }
        }
        return GreyImage(width: side, height: side, pixels: out)
    }

    /// Area-average resampling to `newWidth`×`newHeight`: each output pixel is the mean of the
    /// input area it covers (exact box filter), which avoids the aliasing of point sampling when
    /// a 2k film becomes 28 px. Upsampling falls back to the nearest source pixel.
    public func resized(width newWidth: Int, height newHeight: Int) -> GreyImage {
        precondition(newWidth > 0 && newHeight > 0)
        if newWidth == width && newHeight == height { return self }
        let xWeights = Self.coverage(from: width, to: newWidth)
        let yWeights = Self.coverage(from: height, to: newHeight)
        // Rows first into a float buffer, then columns: two 1-D passes.
        var rows = [Float](repeating: 0, count: height * newWidth)
        pixels.withUnsafeBufferPointer { source in
            for y in 0..<height {
                for (ox, spans) in xWeights.enumerated() {
                    var sum: Float = 0
                    for span in spans { sum += Float(source[y * width + span.index]) * span.weight }
                    rows[y * newWidth + ox] = sum
                }
            }
        }
        var out = [UInt8](repeating: 0, count: newWidth * newHeight)
        for (oy, spans) in yWeights.enumerated() {
            for ox in 0..<newWidth {
                var sum: Float = 0
                for span in spans { sum += rows[span.index * newWidth + ox] * span.weight }
                out[oy * newWidth + ox] = UInt8(clamping: Int((sum).rounded()))
            }
        }
        return GreyImage(width: newWidth, height: newHeight, pixels: out)
    }

    /// The square thumbnail a model of side `side` reads: centre crop, then area average.
    public func thumbnail(side: Int) -> GreyImage {
        centreCroppedToSquare().resized(width: side, height: side)
    }

    private struct Span { let index: Int; let weight: Float }

    /// For every output cell, the input cells it overlaps and the share of each (weights sum to 1).
    private static func coverage(from source: Int, to target: Int) -> [[Span]] {
        let scale = Double(source) / Double(target)
        return (0..<target).map { o in
            if scale <= 1 { return [Span(index: min(source - 1, Int(Double(o) * scale)), weight: 1)] }
            let start = Double(o) * scale, end = start + scale
            var spans: [Span] = []
            var i = Int(start)
            while Double(i) < end && i < source {
                let overlap = min(end, Double(i + 1)) - max(start, Double(i))
                if overlap > 1e-9 { spans.append(Span(index: i, weight: Float(overlap / scale))) }
                i += 1
            }
            return spans
        }
    }
}
