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

// A progressive file may hold thousands of scans, each a pass over the whole coefficient
// buffer: a few kilobytes that take minutes to decode. libjpeg-turbo's own TurboJPEG API stops
// at 500 scans; so does this decoder (real films use about ten).
enum { max_scans = 500 };

typedef struct {
    struct jpeg_progress_mgr base;
    error_manager *errors;
} scan_limit;

static void on_progress(j_common_ptr info) {
    scan_limit *limit = (scan_limit *)info->progress;
    j_decompress_ptr decompress = (j_decompress_ptr)info;
    if (decompress->input_scan_number > max_scans) {
        snprintf(limit->errors->message, 256, "JPEG: more than %d scans (a decompression bomb)", max_scans);
        longjmp(limit->errors->jump, 1);
    }
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
    scan_limit limit = {.base = {.progress_monitor = on_progress}, .errors = &errors};
    info.progress = &limit.base;
    jpeg_mem_src(&info, data, (unsigned long)length);
    jpeg_read_header(&info, TRUE);
    // libjpeg's working memory (a progressive file's whole coefficient buffer, 2 bytes per
    // sample) within what an image of this size needs, so that a lying header cannot ask for more.
    info.mem->max_memory_to_use = (long)((size_t)info.image_width * info.image_height * (size_t)info.num_components * 4
                                         + ((size_t)16 << 20));
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
