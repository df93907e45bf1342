// libjpeg reports errors by longjmp and truncation only as a warning; both become errors here.
#include "rs_image.h"
#include <stdio.h>  /* jpeglib.h needs FILE */
#include <jpeglib.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
} error_manager;

static void on_error(j_common_ptr info) {
    error_manager *manager = (error_manager *)info->err;
    char text[JMSG_LENGTH_MAX];
    manager->base.format_message(info, text);
    snprintf(manager->message, 256, "JPEG: %s", text);
    longjmp(manager->jump, 1);
}

// A corrupt or truncated stream only warns (level -1) and libjpeg fills the rest with grey;
// a medical image with invented pixels is worse than none, so any such warning is fatal.
static void on_message(j_common_ptr info, int level) {
    if (level < 0) on_error(info);
}

int rs_jpeg_decode(const uint8_t *data, size_t length, size_t max_pixels, rs_image *out) {
    memset(out, 0, sizeof(*out));
    struct jpeg_decompress_struct info;
    error_manager errors;
    info.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = on_error;
    errors.base.emit_message = on_message;
    errors.message = out->error;
    uint8_t *volatile pixels = NULL;
    if (setjmp(errors.jump)) {
        free(pixels);
        jpeg_destroy_decompress(&info);
        return 1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, (unsigned long)length);
    jpeg_read_header(&info, TRUE);
    if ((size_t)info.image_width * (size_t)info.image_height > max_pixels) {
        snprintf(out->error, sizeof out->error, "JPEG: %ux%u exceeds the bound of %zu pixels",
                 info.image_width, info.image_height, max_pixels);
        jpeg_destroy_decompress(&info);
        return 1;
    }
    if (info.num_components == 4) {
        snprintf(out->error, sizeof out->error, "JPEG: CMYK images are not supported");
        jpeg_destroy_decompress(&info);
        return 1;
    }
    // libjpeg takes luma straight from YCbCr: cheaper and closer to the scanner than RGB then grey.
    info.out_color_space = JCS_GRAYSCALE;
    jpeg_start_decompress(&info);
    size_t stride = (size_t)info.output_width * (size_t)info.output_components;
    pixels = malloc(stride * info.output_height);
    if (!pixels) {
        snprintf(out->error, sizeof out->error, "JPEG: out of memory");
        jpeg_destroy_decompress(&info);
        return 1;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels + (size_t)info.output_scanline * stride;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    out->width = (int)info.output_width;
    out->height = (int)info.output_height;
    out->channels = info.output_components;
    out->bit_depth = 8;
    out->pixels = pixels;
    jpeg_destroy_decompress(&info);
    return 0;
}
