import Imaging

/// Keeps the square greyscale copies the models read (centre crop, area average). A side larger
/// than the picture is skipped — upsampling stores no information — except the smallest and the
/// sides a model reads, which every image gets.
public struct ThumbnailStage: ImageStage {
    public let sides: [Int]
    public let requiredSides: Set<Int>
    public var name: String { "thumbnails" }

    public init(sides: [Int], required: Set<Int> = []) {
        self.sides = Set(sides).union(required).sorted()
        self.requiredSides = required.union(sides.min().map { [$0] } ?? [])
    }

    public func run(_ decoded: DecodedImage, into record: inout ImageRecord) throws {
        let shortSide = min(decoded.image.width, decoded.image.height)
        for side in sides where requiredSides.contains(side) || side <= shortSide {
            record.thumbnails[side] = decoded.image.thumbnail(side: side).pixels
        }
    }
}
