import Models
import TensorEngine

/// A random change to a training image that keeps its label.
public protocol ImageAugmentation: Sendable {
    /// Writes the changed image, in [0, 1] before normalisation, into `output` (side × side).
    func apply(_ pixels: [UInt8], side: Int, into output: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator)
}

/// A network's input batch (batch × 1 × side × side) from greyscale images: each augmented when
/// asked, then normalised as the classifier's settings say.
public enum InputBatch {
    public static func make(_ images: [[UInt8]], side: Int, settings: ImageClassifier.Settings,
                            augmentation: (any ImageAugmentation)?, generator: inout SeededGenerator) -> Tensor {
        let pixels = side * side
        var data = Tensor.uninitialized(images.count * pixels)
        let scale = 1 / settings.pixelStandardDeviation
        data.withUnsafeMutableBufferPointer { buffer in
            for (index, member) in images.enumerated() {
                let image = UnsafeMutableBufferPointer(rebasing: buffer[(index * pixels)..<((index + 1) * pixels)])
                if let augmentation {
                    augmentation.apply(member, side: side, into: image, using: &generator)
                } else {
                    for i in 0..<pixels { image[i] = Float(member[i]) / 255 }
                }
                for i in 0..<pixels { image[i] = (image[i] - settings.pixelMean) * scale }
            }
        }
        return Tensor(shape: [images.count, 1, side, side], data: data)
    }
}

/// Random changes to a training image that keep its label: a small translation (edges
/// replicated, as the border of a radiograph continues), and a change of brightness and contrast
/// (exposure differs from one machine to the next). No flips: a mirrored chest puts the heart on
/// the wrong side, which no real radiograph shows.
public struct Augmentation: ImageAugmentation, Codable, Equatable {
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

/// The strong view of self-training: the student must give the teacher's answer for the weak
/// view from an image changed much more — a larger shift and exposure change, sensor noise, and
/// a square erased (Cutout: no single region may carry the decision). Still no flips.
public struct StrongAugmentation: ImageAugmentation, Codable, Equatable {
    public var base: Augmentation
    /// Standard deviation of the Gaussian noise added to every pixel, in [0, 1] units.
    public var noise: Float
    /// Side of the erased square as a share of the image side; 0: none.
    public var erasedShare: Float

    public init(base: Augmentation = Augmentation(maxShift: 3, maxBrightness: 0.2, maxContrast: 0.3),
                noise: Float = 0.03, erasedShare: Float = 0.25) {
        self.base = base
        self.noise = noise
        self.erasedShare = erasedShare
    }

    public func apply(_ pixels: [UInt8], side: Int, into output: UnsafeMutableBufferPointer<Float>,
                      using generator: inout SeededGenerator) {
        base.apply(pixels, side: side, into: output, using: &generator)
        if noise > 0 {
            for i in 0..<(side * side) { output[i] += generator.normal(standardDeviation: noise) }
        }
        let erased = Int((erasedShare * Float(side)).rounded())
        guard erased > 0 else { return }
        let top = Int(generator.next() % UInt64(side - erased + 1)), left = Int(generator.next() % UInt64(side - erased + 1))
        var mean: Float = 0
        for i in 0..<(side * side) { mean += output[i] }
        mean /= Float(side * side)
        for y in top..<(top + erased) {
            for x in left..<(left + erased) { output[y * side + x] = mean }
        }
    }
}
