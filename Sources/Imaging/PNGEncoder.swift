import CImageCodecs

/// Writes greyscale PNGs: saliency maps, thumbnails for dashboards, test fixtures.
public enum PNGEncoder {
    public static func encode(_ image: GreyImage) throws(ImagingError) -> [UInt8] {
        var buffer: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            rs_png_encode_gray8(pixels.baseAddress, Int32(image.width), Int32(image.height), &buffer, &length, &message)
        }
        guard status == 0, let buffer else {
            throw ImagingError(.corrupt, String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { rs_buffer_free(buffer) }
        return Array(UnsafeBufferPointer(start: buffer, count: length))
    }
}
