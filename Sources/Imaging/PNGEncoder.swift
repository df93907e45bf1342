import CImageCodecs

/// Writes 8-bit PNGs: saliency maps and their overlays, test fixtures.
public enum PNGEncoder {
    public static func encode(_ image: GreyImage) throws(ImagingError) -> [UInt8] {
        try encode(image.pixels, width: image.width, height: image.height, channels: 1)
    }

    /// Interleaved RGB bytes, row-major.
    public static func encodeRGB(_ pixels: [UInt8], width: Int, height: Int) throws(ImagingError) -> [UInt8] {
        try encode(pixels, width: width, height: height, channels: 3)
    }

    private static func encode(_ pixels: [UInt8], width: Int, height: Int, channels: Int) throws(ImagingError) -> [UInt8] {
        precondition(pixels.count == width * height * channels, "\(pixels.count) bytes for \(width)×\(height)×\(channels)")
        var buffer: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = pixels.withUnsafeBufferPointer { pixels in
            rs_png_encode8(pixels.baseAddress, Int32(width), Int32(height), Int32(channels), &buffer, &length, &message)
        }
        guard status == 0, let buffer else {
            throw ImagingError(.corrupt, String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { rs_buffer_free(buffer) }
        return Array(UnsafeBufferPointer(start: buffer, count: length))
    }
}
