// DCMTK behind a C function: parse from memory, decompress (JPEG, JPEG-LS, RLE), apply the
// file's VOI window (or min-max), and render 8-bit greyscale in the MONOCHROME2 sense.
#include "rs_dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmimage/diregist.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>

namespace {

// While a file is decoded, no single nothrow array allocation may exceed this: DCMTK allocates
// an element's value at the length the file declares, before it reads it, so a few hundred
// bytes declaring a 4 GB element made it allocate 4 GB (found by Fuzz/run.sh FuzzDICOM). An
// honest file needs no more than its own size for a value, or the pixel bound for decompressed
// frames. Refused, the allocation returns null and DCMTK reports "memory exhausted".
thread_local std::size_t allocationLimit = SIZE_MAX;

struct AllocationLimit {
    explicit AllocationLimit(std::size_t limit) { allocationLimit = limit; }
    ~AllocationLimit() { allocationLimit = SIZE_MAX; }
};

std::once_flag registration;

void registerCodecsOnce() {
    std::call_once(registration, [] {
        // DCMTK logs decode problems to stderr by default; we report them as errors instead.
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
}

int fail(rs_dicom_image *out, const char *what, const char *detail) {
    std::snprintf(out->error, sizeof out->error, "DICOM: %s%s%s", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

int decode(const uint8_t *data, size_t length, size_t max_pixels, rs_dicom_image *out);

}  // namespace

// No C++ exception may cross into Swift (it would end the process): DCMTK's own, a failed
// allocation for a huge file, anything a codec throws becomes the file's error.
// The replaceable nothrow array allocation (C++ [new.delete.array]), through malloc as the
// standard library's own, so that the standard operator delete[] frees it.
void *operator new[](std::size_t size, const std::nothrow_t &) noexcept {
    if (size > allocationLimit) return nullptr;
    return std::malloc(size ? size : 1);
}

extern "C" int rs_dicom_decode(const uint8_t *data, size_t length, size_t max_pixels, rs_dicom_image *out) {
    // Decompressed frames are at most max_pixels samples of up to 4 bytes.
    AllocationLimit limit(std::max(length, max_pixels * 4) + 65536);
    try {
        return decode(data, length, max_pixels, out);
    } catch (const std::bad_alloc &) {
        rs_dicom_free(out);
        return fail(out, "out of memory", nullptr);
    } catch (const std::exception &error) {
        rs_dicom_free(out);
        return fail(out, "decoder failure", error.what());
    } catch (...) {
        rs_dicom_free(out);
        return fail(out, "decoder failure", "unknown exception");
    }
}

namespace {

int decode(const uint8_t *data, size_t length, size_t max_pixels, rs_dicom_image *out) {
    std::memset(out, 0, sizeof(*out));
    registerCodecsOnce();
    if (length < 132 || std::memcmp(data + 128, "DICM", 4) != 0) {
        return fail(out, "missing the DICM preamble (not a DICOM Part 10 file)", nullptr);
    }
    DcmInputBufferStream stream;
    stream.setBuffer(data, static_cast<offile_off_t>(length));
    stream.setEos();
    DcmFileFormat file;
    file.transferInit();
    OFCondition status = file.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    file.transferEnd();
    if (status.bad()) return fail(out, "cannot parse", status.text());

    DcmDataset *dataset = file.getDataset();
    Uint16 rows = 0, columns = 0, bitsStored = 0;
    if (dataset->findAndGetUint16(DCM_Rows, rows).bad() || dataset->findAndGetUint16(DCM_Columns, columns).bad()) {
        return fail(out, "no Rows/Columns: not an image", nullptr);
    }
    dataset->findAndGetUint16(DCM_BitsStored, bitsStored);
    // Decompression works on every frame, and every sample of each: all count against the bound.
    Sint32 frames = 1;
    if (dataset->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
    Uint16 samples = 1;
    if (dataset->findAndGetUint16(DCM_SamplesPerPixel, samples).bad() || samples < 1) samples = 1;
    const size_t total = static_cast<size_t>(rows) * columns * static_cast<size_t>(frames) * samples;
    if (total > max_pixels) {
        std::snprintf(out->error, sizeof out->error,
                      "DICOM: %ux%u, %d frames of %u samples exceeds the bound of %zu pixels",
                      columns, rows, static_cast<int>(frames), samples, max_pixels);
        return 1;
    }
    OFString photometric;
    dataset->findAndGetOFString(DCM_PhotometricInterpretation, photometric);
    std::snprintf(out->photometric, sizeof out->photometric, "%s", photometric.c_str());
    DcmXfer xfer(dataset->getOriginalXfer());
    std::snprintf(out->transfer_syntax, sizeof out->transfer_syntax, "%s", xfer.getXferName());

    // Decompress in place to a native representation; a truncated fragment fails here.
    status = dataset->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
    if (status.bad() || !dataset->canWriteXfer(EXS_LittleEndianExplicit)) {
        return fail(out, "cannot decompress pixel data", status.bad() ? status.text() : xfer.getXferName());
    }

    DicomImage image(&file, EXS_LittleEndianExplicit, CIF_UsePartialAccessToPixelData, 0, 1);
    if (image.getStatus() != EIS_Normal) {
        return fail(out, "cannot render", DicomImage::getString(image.getStatus()));
    }
    DicomImage *grey = &image;
    DicomImage *converted = nullptr;
    if (!image.isMonochrome()) {
        converted = image.createMonochromeImage();
        if (!converted) return fail(out, "cannot convert colour image to grey", nullptr);
        grey = converted;
    }
    if (grey->getWindowCount() > 0) grey->setWindow(0); else grey->setMinMaxWindow();

    const size_t count = static_cast<size_t>(grey->getWidth()) * grey->getHeight();
    uint8_t *pixels = static_cast<uint8_t *>(std::malloc(count));
    if (!pixels) {
        delete converted;
        return fail(out, "out of memory", nullptr);
    }
    if (!grey->getOutputData(pixels, count, 8, 0)) {
        std::free(pixels);
        delete converted;
        return fail(out, "cannot render pixel data", nullptr);
    }
    out->width = static_cast<int>(grey->getWidth());
    out->height = static_cast<int>(grey->getHeight());
    out->bits_stored = bitsStored;
    out->pixels = pixels;
    delete converted;
    return 0;
}

}  // namespace

extern "C" void rs_dicom_free(rs_dicom_image *image) {
    std::free(image->pixels);
    image->pixels = nullptr;
}
