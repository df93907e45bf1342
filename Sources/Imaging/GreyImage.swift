/// An 8-bit greyscale picture in the MONOCHROME2 sense (bright = dense), row-major.
public struct GreyImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height, "pixel count must be width×height")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The picture with dark and bright swapped (MONOCHROME1 ↔ MONOCHROME2).
    public func inverted() -> GreyImage {
        GreyImage(width: width, height: height, pixels: pixels.map { 255 - $0 })
    }
}
