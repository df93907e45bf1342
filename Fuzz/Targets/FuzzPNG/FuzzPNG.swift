import FuzzSupport
import Imaging

/// The image decoder on any bytes; seeded with PNG files, it explores the PNG decoder (libpng
/// behind its setjmp shim). An image, or an `ImagingError`: never a crash.
@main enum FuzzPNG {
    static func main() {
        FuzzInput.main { bytes in
            _ = try? ImageDecoder(maxPixels: 4 << 20).decode(bytes)
        }
    }
}
