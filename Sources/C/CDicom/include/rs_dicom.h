// The thin C face of DCMTK: a DICOM file in memory becomes an 8-bit greyscale raster.
#ifndef RS_DICOM_H
#define RS_DICOM_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rs_dicom_image {
    int width;
    int height;
    int bits_stored;
    char photometric[32];
    char transfer_syntax[80];
    uint8_t *pixels;         /* width*height bytes, bright = dense (MONOCHROME2 sense) */
    char error[256];
} rs_dicom_image;

/* 0 on success; otherwise non-zero with a message in out->error. */
int rs_dicom_decode(const uint8_t *data, size_t length, size_t max_pixels, rs_dicom_image *out);
void rs_dicom_free(rs_dicom_image *image);

#ifdef __cplusplus
}
#endif
#endif
