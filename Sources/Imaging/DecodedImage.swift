/// A decoded picture with what the decoder learned about its source.
public struct DecodedImage: Sendable {
    public let image: GreyImage
    public let format: ImageFormat
    /// Bits per sample in the source (8, 12, 16, …) before normalisation to 8.
    public let sourceBitDepth: Int
    /// "MONOCHROME1", "MONOCHROME2", "RGB", … where the format says.
    public let photometric: String?
}
