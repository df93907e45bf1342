import FuzzSupport
import Imaging

/// The image decoder on any bytes; seeded with DICOM files, it explores the DICOM decoder
/// (DCMTK behind its C face). An image, or an `ImagingError`: never a crash.
@main enum FuzzDICOM {
    static func main() {
        FuzzInput.main { bytes in
            _ = try? ImageDecoder(maxPixels: 4 << 20).decode(bytes)
        }
    }
}
