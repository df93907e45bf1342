import Foundation
import Imaging
import TensorEngine

/// Material to measure an applicability gate on, each set labelled with whether a chest-film
/// classifier of the given population should read it: its own validation films (yes), and what
/// it was never made for — the same films inverted, rotated or upside down, noise, blank and
/// synthetic pictures (gradients, discs, stripes: there are no photographs in the shared data),
/// adult films of the COVID-19 collection, the paediatric films of PneumoniaMNIST, and the
/// sample files (adult NIH and TBX11K films, an adult DICOM, colour JPEGs, IU study 1000's
/// lateral film). Of the two collections only the validation splits are used — the patients no
/// population check was trained on.
public enum ApplicabilityMaterials {
    public struct Material: Sendable {
        public let name: String
        public let images: [[UInt8]]
    }

    /// `own` are the model's validation films; `data` the shared data folder.
    public static func sets(own: LabeledImageSet, data: URL, side: Int, includeCovid: Bool, includePaediatric: Bool,
                            seed: UInt64 = 1) throws -> [Material] {
        let films = own.images.map(\.pixels)
        var generator = SeededGenerator(seed: seed)
        let count = min(films.count, 500)
        var sets = [
            Material(name: "its validation films", images: films),
            Material(name: "the same, inverted", images: films.map { $0.map { 255 - $0 } }),
            Material(name: "the same, rotated 90°", images: films.map { rotated($0, side: side) }),
            Material(name: "the same, upside down", images: films.map { Array($0.reversed()) }),
            Material(name: "uniform noise", images: (0..<count).map { _ in (0..<(side * side)).map { _ in UInt8.random(in: 0...255, using: &generator) } }),
            Material(name: "blank (one grey level)", images: (0..<count).map { _ in [UInt8](repeating: UInt8.random(in: 0...255, using: &generator), count: side * side) }),
            Material(name: "synthetic pictures (gradients, discs, stripes)", images: (0..<count).map { picture($0, side: side, using: &generator) }),
        ]
        if includeCovid {
            sets.append(Material(name: "COVID-19 collection, held-out patients (adult frontal films)",
                                 images: try TrainingData.load(data.appending(path: "covid").path, side: side).validation.images.map(\.pixels)))
        }
        if includePaediatric {
            sets.append(Material(name: "PneumoniaMNIST val (paediatric films)",
                                 images: try read(data.appending(path: "pneumoniamnist/val"), side: side)))
        }
        sets.append(Material(name: "shared samples (adult films, DICOM, JPEG, a lateral)",
                             images: try read(data.appending(path: "samples"), side: side)))
        return sets
    }

    /// Every image of a folder, decoded as the daemon decodes it and reduced to `side`.
    static func read(_ folder: URL, side: Int) throws -> [[UInt8]] {
        let extensions: Set = ["png", "jpg", "jpeg", "dcm"]
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { extensions.contains($0.pathExtension.lowercased()) }.sorted { $0.path < $1.path }
        let decoder = ImageDecoder()
        return files.compactMap { file in
            guard let bytes = try? Data(contentsOf: file), let decoded = try? decoder.decode(Array(bytes)) else { return nil }
            return decoded.image.thumbnail(side: side).pixels
        }
    }

    static func rotated(_ pixels: [UInt8], side: Int) -> [UInt8] {
        (0..<(side * side)).map { index in pixels[(side - 1 - index % side) * side + index / side] }
    }

    /// A synthetic picture: a linear gradient at a random angle, a disc, or stripes, with noise.
    static func picture(_ index: Int, side: Int, using generator: inout SeededGenerator) -> [UInt8] {
        let angle = Double.random(in: 0..<(2 * .pi), using: &generator)
        let (cx, cy, r) = (Double.random(in: 0.2...0.8, using: &generator), Double.random(in: 0.2...0.8, using: &generator),
                           Double.random(in: 0.1...0.4, using: &generator))
        let period = Double.random(in: 3...9, using: &generator)
        return (0..<(side * side)).map { position in
            let (x, y) = (Double(position % side) / Double(side), Double(position / side) / Double(side))
            let value: Double = switch index % 3 {
            case 0: (cos(angle) * x + sin(angle) * y + 1) / 2.5
            case 1: ((x - cx) * (x - cx) + (y - cy) * (y - cy)).squareRoot() < r ? 0.85 : 0.2
            default: sin((cos(angle) * x + sin(angle) * y) * Double(side) / period) > 0 ? 0.8 : 0.15
            }
            return UInt8(max(0, min(255, value * 255 + Double.random(in: -12...12, using: &generator))))
        }
    }
}
