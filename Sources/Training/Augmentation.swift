import Foundation
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
/// (exposure differs from one machine to the next). Where asked, also a small rotation and
/// change of scale (patients are not positioned alike; sampled bilinearly) and a gamma change
/// (detectors and their look-up tables differ). No flips: a mirrored chest puts the heart on
/// the wrong side, which no real radiograph shows.
public struct Augmentation: ImageAugmentation, Codable, Equatable {
    /// The largest shift, in pixels, in each direction.
    public var maxShift: Int
    /// Brightness moves by up to ± this share of the full range; contrast scales by 1 ± this.
    public var maxBrightness: Float
    public var maxContrast: Float
    /// The largest rotation, in degrees, either way; 0: none.
    public var maxRotation: Float
    /// The image is scaled by 1 ± up to this; 0: none.
    public var maxScale: Float
    /// Pixel values v become v^γ with ln γ uniform in ± this; 0: none.
    public var maxLogGamma: Float

    public init(maxShift: Int = 2, maxBrightness: Float = 0.1, maxContrast: Float = 0.15,
                maxRotation: Float = 0, maxScale: Float = 0, maxLogGamma: Float = 0) {
        self.maxShift = maxShift
        self.maxBrightness = maxBrightness
        self.maxContrast = maxContrast
        self.maxRotation = maxRotation
        self.maxScale = maxScale
        self.maxLogGamma = maxLogGamma
    }

    /// Also rotation, scale and gamma: the stronger recipe `train classifier --augmentation
    /// strong` offers (measured against the light one in docs/models/cross-validation.md).
    public static let strong = Augmentation(maxShift: 2, maxBrightness: 0.1, maxContrast: 0.2,
                                            maxRotation: 10, maxScale: 0.1, maxLogGamma: 0.25)

    public func apply(_ pixels: [UInt8], side: Int, into output: UnsafeMutableBufferPointer<Float>,
                      using generator: inout SeededGenerator) {
        let span = 2 * maxShift + 1
        let dx = Int(generator.next() % UInt64(span)) - maxShift, dy = Int(generator.next() % UInt64(span)) - maxShift
        let contrast = 1 + generator.uniform(-maxContrast, maxContrast)
        let brightness = generator.uniform(-maxBrightness, maxBrightness)
        var mean: Float = 0
        for p in pixels { mean += Float(p) }
        mean /= Float(pixels.count) * 255
        if maxRotation > 0 || maxScale > 0 {
            let angle = generator.uniform(-maxRotation, maxRotation) * .pi / 180
            let scale = 1 + generator.uniform(-maxScale, maxScale)
            resample(pixels, side: side, angle: angle, scale: scale, shift: (Float(dx), Float(dy)), into: output)
        } else {
            for y in 0..<side {
                let sourceY = min(max(y - dy, 0), side - 1)
                for x in 0..<side {
                    output[y * side + x] = Float(pixels[sourceY * side + min(max(x - dx, 0), side - 1)]) / 255
                }
            }
        }
        if maxLogGamma > 0 {
            let gamma = Float(Foundation.exp(Double(generator.uniform(-maxLogGamma, maxLogGamma))))
            for i in 0..<(side * side) { output[i] = Foundation.pow(max(output[i], 0), gamma) }
        }
        for i in 0..<(side * side) { output[i] = (output[i] - mean) * contrast + mean + brightness }
    }

    /// Output pixel p reads the source at c + R(−angle)·(p − c − shift)/scale, bilinearly, edges
    /// replicated: the image rotated by `angle` and scaled about its centre, then shifted.
    private func resample(_ pixels: [UInt8], side: Int, angle: Float, scale: Float, shift: (Float, Float),
                          into output: UnsafeMutableBufferPointer<Float>) {
        let centre = Float(side - 1) / 2
        let cosine = Foundation.cos(angle) / scale, sine = Foundation.sin(angle) / scale
        let last = Float(side - 1)
        for y in 0..<side {
            let v = Float(y) - centre - shift.1
            for x in 0..<side {
                let u = Float(x) - centre - shift.0
                let sourceX = min(max(cosine * u + sine * v + centre, 0), last)
                let sourceY = min(max(-sine * u + cosine * v + centre, 0), last)
                let x0 = Int(sourceX), y0 = Int(sourceY)
                let x1 = min(x0 + 1, side - 1), y1 = min(y0 + 1, side - 1)
                let fx = sourceX - Float(x0), fy = sourceY - Float(y0)
                let top = Float(pixels[y0 * side + x0]) * (1 - fx) + Float(pixels[y0 * side + x1]) * fx
                let bottom = Float(pixels[y1 * side + x0]) * (1 - fx) + Float(pixels[y1 * side + x1]) * fx
                output[y * side + x] = (top * (1 - fy) + bottom * fy) / 255
            }
        }
    }

    private enum CodingKeys: String, CodingKey {
        case maxShift, maxBrightness, maxContrast, maxRotation, maxScale, maxLogGamma
    }

    /// Manifests written before rotation, scale and gamma existed read as "none of those".
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(maxShift: try container.decode(Int.self, forKey: .maxShift),
                  maxBrightness: try container.decode(Float.self, forKey: .maxBrightness),
                  maxContrast: try container.decode(Float.self, forKey: .maxContrast),
                  maxRotation: try container.decodeIfPresent(Float.self, forKey: .maxRotation) ?? 0,
                  maxScale: try container.decodeIfPresent(Float.self, forKey: .maxScale) ?? 0,
                  maxLogGamma: try container.decodeIfPresent(Float.self, forKey: .maxLogGamma) ?? 0)
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
