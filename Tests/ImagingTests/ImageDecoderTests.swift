import Foundation
import TestSupport
import Testing
@testable import Imaging

enum Files {
    static let fixtures = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "Fixtures")
    static var samples: URL { TestData.root.appending(path: "samples") }
    static func bytes(_ url: URL) throws -> [UInt8] { Array(try Data(contentsOf: url)) }
    static let dicom = "1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"
}

@Suite("Image decoding")
struct ImageDecoderTests {
    let decoder = ImageDecoder()

    /// Every real sample decodes, at its real size, to a picture with real contrast.
    @Test(arguments: [
        ("00000001_000.png", ImageFormat.png, 512, 512),
        ("tbx11k_health_h0001.png", .png, 512, 512),
        ("16747_3_1.jpg", .jpeg, nil, nil),
        ("covid-19-pneumonia-58-prior.jpg", .jpeg, nil, nil),
        ("iu_1000_IM-0003-2001.png", .png, 2048, 2496),
        (Files.dicom, .dicom, 1024, 1024),
    ] as [(String, ImageFormat, Int?, Int?)])
    func decodesRealSamples(file: String, format: ImageFormat, width: Int?, height: Int?) throws {
        let decoded = try decoder.decode(Files.bytes(Files.samples.appending(path: file)))
        #expect(decoded.format == format)
        if let width, let height {
            #expect(decoded.image.width == width && decoded.image.height == height)
        }
        let pixels = decoded.image.pixels
        #expect(pixels.max()! - pixels.min()! > 100, "a chest film spans most of the grey range")
    }

    /// The twin differs from the real file in one byte: its Photometric Interpretation says
    /// MONOCHROME1 over the same stored values. Honouring the tag means showing it inverted, so
    /// the twin decodes to the negative of the original: the same picture in the MONOCHROME2
    /// sense once the photometric flip is undone, within one grey level of DCMTK's rounding.
    @Test func monochrome1IsInvertedToTheMonochrome2Sense() throws {
        let original = try decoder.decode(Files.bytes(Files.samples.appending(path: Files.dicom)))
        let twin = try decoder.decode(Files.bytes(Files.samples.appending(path: "Fake_MONOHR1.dcm")))
        #expect(original.photometric == "MONOCHROME2")
        #expect(twin.photometric == "MONOCHROME1")
        #expect(twin.image.width == original.image.width && twin.image.height == original.image.height)
        let negative = original.image.inverted().pixels
        let maxDelta = zip(twin.image.pixels, negative).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(maxDelta <= 1, "the twin is the original's negative within one grey level")
        let unchanged = zip(twin.image.pixels, original.image.pixels).filter { $0 == $1 }.count
        #expect(unchanged < twin.image.pixels.count / 50, "a decoder ignoring MONOCHROME1 would leave them equal")
    }

    /// Uncompressed DICOM (explicit and implicit VR): a 12-bit ramp through its VOI window comes
    /// out dark on the left and bright on the right; tagged MONOCHROME1, the other way round.
    @Test func decodesUncompressedDicomWithItsWindow() throws {
        let mono2 = try decoder.decode(Files.bytes(Files.fixtures.appending(path: "ramp12_mono2.dcm")))
        #expect(mono2.sourceBitDepth == 12 && mono2.image.width == 64 && mono2.image.height == 48)
        let row = Array(mono2.image.pixels.prefix(64))
        #expect(row.first! < 5 && row.last! > 250)
        #expect(zip(row, row.dropFirst()).allSatisfy { $0 <= $1 }, "a monotone ramp")
        let mono1 = try decoder.decode(Files.bytes(Files.fixtures.appending(path: "ramp12_mono1.dcm")))
        let inverted = Array(mono1.image.pixels.prefix(64))
        #expect(inverted.first! > 250 && inverted.last! < 5)
        #expect(zip(row, inverted).allSatisfy { abs(Int($0) + Int($1) - 255) <= 1 })

        let implicit = try decoder.decode(Files.bytes(Files.fixtures.appending(path: "ramp8_implicit.dcm")))
        #expect(implicit.sourceBitDepth == 8 && implicit.image.width == 64)
        #expect(implicit.image.pixels.first! < 5 && implicit.image.pixels[63] > 250)
    }

    @Test func decodesSixteenBitGreyWithARobustWindow() throws {
        let decoded = try decoder.decode(Files.bytes(Files.fixtures.appending(path: "gray16_ramp.png")))
        #expect(decoded.sourceBitDepth == 16)
        #expect(decoded.image.width == 40)
        let pixels = decoded.image.pixels
        // The outliers (0 and 65535) and the ramp's ends clip; the narrow ramp spans 0…255.
        #expect(pixels[0] == 0 && pixels[1] == 0 && pixels[1598] == 255 && pixels[1599] == 255)
        #expect((120...135).contains(pixels[800]))
        #expect(zip(pixels.dropFirst(), pixels.dropFirst(2)).allSatisfy { $0 <= $1 }, "monotone ramp")
    }

    @Test func colourBecomesLuma() throws {
        let decoded = try decoder.decode(Files.bytes(Files.fixtures.appending(path: "rgb8_2x2.png")))
        #expect(decoded.image.pixels == [76, 150, 29, 255])
        let alpha = try decoder.decode(Files.bytes(Files.fixtures.appending(path: "gray_alpha_2x1.png")))
        #expect(alpha.image.pixels == [10, 200])
    }

    @Test func decompressionBombIsRefusedBeforeAllocation() throws {
        #expect(throws: ImagingError.self) {
            try decoder.decode(Files.bytes(Files.fixtures.appending(path: "bomb.png")))
        }
        let small = ImageDecoder(maxPixels: 1000)
        let error = #expect(throws: ImagingError.self) {
            try small.decode(Files.bytes(Files.samples.appending(path: Files.dicom)))
        }
        #expect(error?.code == .tooLarge)
    }

    /// Ten 64×64 frames are 40,960 pixels to decompress, though one frame is only 4,096: the
    /// bound counts every frame.
    @Test func everyFrameOfAMultiFrameDicomCountsAgainstTheBound() throws {
        let bytes = try Files.bytes(Files.fixtures.appending(path: "frames10_64x64.dcm"))
        let decoded = try ImageDecoder(maxPixels: 50_000).decode(bytes)
        #expect(decoded.image.width == 64 && decoded.image.height == 64, "the first frame is the image")
        let error = #expect(throws: ImagingError.self) { try ImageDecoder(maxPixels: 10_000).decode(bytes) }
        #expect(error?.code == .tooLarge)
        #expect(error?.message.contains("10 frames") == true, "\(String(describing: error))")
    }

    /// Found by `Fuzz/run.sh FuzzDICOM`: 2.7 KB whose element declares a 4 GB value, which DCMTK
    /// allocated before finding the stream too short ("Invalid stream"). Now the allocation
    /// itself is refused, and DCMTK says so.
    @Test func aDicomDeclaringAHugeElementIsRefusedWithoutAllocatingIt() throws {
        let error = #expect(throws: ImagingError.self) {
            try ImageDecoder(maxPixels: 4 << 20).decode(Files.bytes(Files.fixtures.appending(path: "fuzz_dicom_declares_4gb.dcm")))
        }
        #expect(error?.message == "DICOM: cannot parse: Virtual Memory exhausted", "\(String(describing: error))")
    }

    /// A valid progressive JPEG in 704 scans (scripts/make_jpeg_fixtures.c): each scan is a pass
    /// over the whole image, the classic way to make a few kilobytes take minutes.
    @Test func aJPEGWithHundredsOfScansIsRefused() throws {
        let error = #expect(throws: ImagingError.self) {
            try decoder.decode(Files.bytes(Files.fixtures.appending(path: "scans704.jpg")))
        }
        #expect(error?.message.contains("more than 500 scans") == true, "\(String(describing: error))")
    }

    @Test(arguments: ["00000001_000.png", "16747_3_1.jpg", Files.dicom])
    func truncatedFilesAreErrors(file: String) throws {
        let bytes = try Files.bytes(Files.samples.appending(path: file))
        let error = #expect(throws: ImagingError.self) { try decoder.decode(Array(bytes.prefix(bytes.count / 2))) }
        #expect(error?.code == .corrupt)
    }

    @Test func corruptBodiesAndUnknownFormatsAreErrors() throws {
        var png = try Files.bytes(Files.samples.appending(path: "00000001_000.png"))
        for i in stride(from: 200, to: 4000, by: 7) { png[i] ^= 0x5A }
        #expect(throws: ImagingError.self) { try decoder.decode(png) }
        let unknown = #expect(throws: ImagingError.self) { try decoder.decode(Array("hello".utf8)) }
        #expect(unknown?.code == .unknownFormat)
        #expect(throws: ImagingError.self) { try decoder.decode([0xFF, 0xD8, 0xFF, 0xE0]) }
    }
}

@Suite("Resampling and encoding")
struct ResampleTests {
    @Test func areaAverageOfAConstantIsTheConstant() {
        let image = GreyImage(width: 7, height: 5, pixels: [UInt8](repeating: 93, count: 35))
        #expect(image.thumbnail(side: 3).pixels == [UInt8](repeating: 93, count: 9))
    }

    @Test func areaAverageMeansBlocks() {
        // 4×2 → 2×1: each output is the mean of a 2×2 block.
        let image = GreyImage(width: 4, height: 2, pixels: [0, 100, 200, 200, 100, 200, 0, 0])
        #expect(image.resized(width: 2, height: 1).pixels == [100, 100])
    }

    @Test func centreCropKeepsTheMiddle() {
        let image = GreyImage(width: 4, height: 2, pixels: [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(image.centreCroppedToSquare() == GreyImage(width: 2, height: 2, pixels: [2, 3, 6, 7]))
    }

    @Test func pngRoundTrip() throws {
        let image = GreyImage(width: 3, height: 2, pixels: [0, 50, 100, 150, 200, 250])
        let decoded = try ImageDecoder().decode(PNGEncoder.encode(image))
        #expect(decoded.image == image)
    }
}
