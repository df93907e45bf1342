import TensorEngine

/// Random changes to a training image that keep its label: a small translation (edges
/// replicated, as the border of a radiograph continues), and a change of brightness and contrast
/// (exposure differs from one machine to the next). No flips: a mirrored chest puts the heart on
/// the wrong side, which no real radiograph shows.
public struct Augmentation: Sendable, Codable, Equatable {
    /// The largest shift, in pixels, in each direction.
    public var maxShift: Int
    /// Brightness moves by up to ± this share of the full range; contrast scales by 1 ± this.
    public var maxBrightness: Float
    public var maxContrast: Float

    public init(maxShift: Int = 2, maxBrightness: Float = 0.1, maxContrast: Float = 0.15) {
        self.maxShift = maxShift
        self.maxBrightness = maxBrightness
        self.maxContrast = maxContrast
    }

    /// Writes the augmented image, in [0, 1] before normalisation, into `output` (side × side).
    public func apply(_ pixels: [UInt8], side: Int, into output: UnsafeMutableBufferPointer<Float>,
                      using generator: inout SeededGenerator) {
        let span = 2 * maxShift + 1
        let dx = Int(generator.next() % UInt64(span)) - maxShift, dy = Int(generator.next() % UInt64(span)) - maxShift
        let contrast = 1 + generator.uniform(-maxContrast, maxContrast)
        let brightness = generator.uniform(-maxBrightness, maxBrightness)
        var mean: Float = 0
        for p in pixels { mean += Float(p) }
        mean /= Float(pixels.count) * 255
        for y in 0..<side {
            let sourceY = min(max(y - dy, 0), side - 1)
            for x in 0..<side {
                let sourceX = min(max(x - dx, 0), side - 1)
                let value = Float(pixels[sourceY * side + sourceX]) / 255
                output[y * side + x] = (value - mean) * contrast + mean + brightness
            }
        }
    }
}
