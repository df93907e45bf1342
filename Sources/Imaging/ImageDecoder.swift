import CDicom
import CImageCodecs

/// Turns PNG (8/16-bit, grey or colour), JPEG and DICOM bytes into normalised 8-bit greyscale.
public struct ImageDecoder: Sendable {
    /// The decoded size is checked against this before any pixel memory is allocated, so a
    /// small file that claims a huge raster (a decompression bomb) is refused cheaply.
    public var maxPixels: Int

    public init(maxPixels: Int = 50_000_000) {
        self.maxPixels = maxPixels
    }

    public func decode(_ bytes: [UInt8]) throws(ImagingError) -> DecodedImage {
        guard let format = ImageFormat.sniff(bytes) else {
            throw ImagingError(.unknownFormat, "not a PNG, JPEG or DICOM file (\(bytes.count) bytes)")
        }
        switch format {
        case .png: return try decodeRaster(bytes, format: .png, with: rs_png_decode)
        case .jpeg: return try decodeRaster(bytes, format: .jpeg, with: rs_jpeg_decode)
        case .dicom: return try decodeDicom(bytes)
        }
    }

    private typealias RasterCodec = (UnsafePointer<UInt8>?, Int, Int, UnsafeMutablePointer<rs_image>?) -> Int32

    private func decodeRaster(_ bytes: [UInt8], format: ImageFormat, with codec: RasterCodec) throws(ImagingError) -> DecodedImage {
        var raster = rs_image()
        let status = bytes.withUnsafeBufferPointer { codec($0.baseAddress, $0.count, maxPixels, &raster) }
        defer { rs_image_free(&raster) }
        guard status == 0, let pixels = raster.pixels else {
            throw Self.error(from: errorText(&raster.error))
        }
        let count = Int(raster.width) * Int(raster.height)
        let channels = Int(raster.channels)
        let grey: [UInt8]
        if raster.bit_depth == 16 {
            let samples = UnsafeBufferPointer(start: UnsafeRawPointer(pixels).assumingMemoryBound(to: UInt16.self),
                                              count: count * channels)
            grey = Normalisation.windowed16(Normalisation.luma(samples, channels: channels))
        } else {
            let samples = UnsafeBufferPointer(start: pixels, count: count * channels)
            grey = channels == 1 ? Array(samples) : Normalisation.luma(samples, channels: channels).map { UInt8($0) }
        }
        return DecodedImage(image: GreyImage(width: Int(raster.width), height: Int(raster.height), pixels: grey),
                            format: format, sourceBitDepth: Int(raster.bit_depth),
                            photometric: channels == 1 ? "MONOCHROME2" : "RGB")
    }

    private func decodeDicom(_ bytes: [UInt8]) throws(ImagingError) -> DecodedImage {
        var raster = rs_dicom_image()
        let status = bytes.withUnsafeBufferPointer { rs_dicom_decode($0.baseAddress, $0.count, maxPixels, &raster) }
        defer { rs_dicom_free(&raster) }
        guard status == 0, let pixels = raster.pixels else {
            throw Self.error(from: errorText(&raster.error))
        }
        // DCMTK renders MONOCHROME1 (bone stored dark) already inverted, in the MONOCHROME2 sense.
        let image = GreyImage(width: Int(raster.width), height: Int(raster.height),
                              pixels: Array(UnsafeBufferPointer(start: pixels, count: Int(raster.width) * Int(raster.height))))
        let photometric = errorText(&raster.photometric)
        return DecodedImage(image: image, format: .dicom, sourceBitDepth: Int(raster.bits_stored),
                            photometric: photometric)
    }

    private static func error(from message: String) -> ImagingError {
        if message.contains("exceeds the bound") { return ImagingError(.tooLarge, message) }
        if message.contains("not supported") || message.contains("Unsupported") { return ImagingError(.unsupported, message) }
        return ImagingError(.corrupt, message)
    }
}

/// Reads a fixed-size C char array as a Swift string.
func errorText<T>(_ tuple: inout T) -> String {
    withUnsafeBytes(of: &tuple) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}
