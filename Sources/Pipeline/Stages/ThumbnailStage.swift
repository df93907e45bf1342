import Imaging

/// Keeps the square greyscale copies the models read (centre crop, area average). A side larger
/// than the picture is skipped — upsampling stores no information — except the smallest, which
/// every image gets.
public struct ThumbnailStage: ImageStage {
    public let sides: [Int]
    public var name: String { "thumbnails" }

    public init(sides: [Int]) {
        self.sides = sides.sorted()
    }

    public func run(_ decoded: DecodedImage, into record: inout ImageRecord) throws {
        let shortSide = min(decoded.image.width, decoded.image.height)
        for (index, side) in sides.enumerated() where index == 0 || side <= shortSide {
            record.thumbnails[side] = decoded.image.thumbnail(side: side).pixels
        }
    }
}
