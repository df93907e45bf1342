import FuzzSupport
import Imaging

/// The image decoder on any bytes; seeded with JPEG files, it explores the JPEG decoder
/// (libjpeg-turbo behind its setjmp shim). An image, or an `ImagingError`: never a crash.
@main enum FuzzJPEG {
    static func main() {
        FuzzInput.main { bytes in
            _ = try? ImageDecoder(maxPixels: 4 << 20).decode(bytes)
        }
    }
}
