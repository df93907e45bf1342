// Decoded raster handed from the C codecs to Swift. The codecs own `pixels` until
// rs_image_free; Swift copies it out and frees it at once.
#ifndef RS_IMAGE_H
#define RS_IMAGE_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rs_image {
    int width;
    int height;
    int channels;   /* 1 (grey) or 3 (RGB), interleaved */
    int bit_depth;  /* 8 or 16; 16-bit samples are native-endian uint16 */
    uint8_t *pixels;
    char error[256];
} rs_image;

/* Each returns 0 on success; otherwise non-zero with a message in out->error.
   max_pixels bounds width*height before any pixel memory is allocated. */
int rs_png_decode(const uint8_t *data, size_t length, size_t max_pixels, rs_image *out);
int rs_jpeg_decode(const uint8_t *data, size_t length, size_t max_pixels, rs_image *out);

/* Encodes 8-bit greyscale (channels 1) or RGB (channels 3) as PNG into a malloc'd buffer freed
   with rs_buffer_free. */
int rs_png_encode8(const uint8_t *pixels, int width, int height, int channels,
                   uint8_t **out, size_t *out_length, char error[256]);

void rs_image_free(rs_image *image);
void rs_buffer_free(uint8_t *buffer);

#ifdef __cplusplus
}
#endif
#endif
