// libpng reports errors by longjmp; this file is the only place that sees it.
#include "rs_image.h"
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t length;
    size_t offset;
} memory_reader;

typedef struct {
    jmp_buf jump;
    char *message;
} error_context;

static void on_error(png_structp png, png_const_charp message) {
    error_context *context = png_get_error_ptr(png);
    snprintf(context->message, 256, "PNG: %s", message);
    longjmp(context->jump, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static void read_memory(png_structp png, png_bytep target, png_size_t count) {
    memory_reader *reader = png_get_io_ptr(png);
    if (reader->length - reader->offset < count) {
        png_error(png, "truncated file");
    }
    memcpy(target, reader->data + reader->offset, count);
    reader->offset += count;
}

int rs_png_decode(const uint8_t *data, size_t length, size_t max_pixels, rs_image *out) {
    memset(out, 0, sizeof(*out));
    if (length < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(out->error, sizeof out->error, "PNG: not a PNG signature");
        return 1;
    }
    error_context context = {.message = out->error};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, on_error, on_warning);
    if (!png) {
        snprintf(out->error, sizeof out->error, "PNG: out of memory");
        return 1;
    }
    png_infop info = png_create_info_struct(png);
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (!info || setjmp(context.jump)) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        if (!out->error[0]) snprintf(out->error, sizeof out->error, "PNG: decode failed");
        out->pixels = NULL;
        return 1;
    }
    // Ancillary chunks (text, ICC profiles, compressed zTXt/iCCP) are bounded in count and in
    // decompressed size, so that a small file cannot inflate into gigabytes of metadata.
    png_set_chunk_cache_max(png, 128);
    png_set_chunk_malloc_max(png, (png_alloc_size_t)8 << 20);
    memory_reader reader = {data, length, 0};
    png_set_read_fn(png, &reader, read_memory);
    png_read_info(png, info);

    png_uint_32 width = png_get_image_width(png, info);
    png_uint_32 height = png_get_image_height(png, info);
    if ((size_t)width * (size_t)height > max_pixels) {
        snprintf(out->error, sizeof out->error,
                 "PNG: %ux%u exceeds the bound of %zu pixels", width, height, max_pixels);
        png_error(png, out->error + 5);
    }
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    // Normalise every variant to grey or RGB, 8 or 16 bits, no alpha.
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (color & PNG_COLOR_MASK_ALPHA || png_get_valid(png, info, PNG_INFO_tRNS)) png_set_strip_alpha(png);
    if (depth == 16) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    int out_depth = png_get_bit_depth(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    pixels = malloc(row_bytes * height);
    rows = malloc(sizeof(png_bytep) * height);
    if (!pixels || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);

    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    out->width = (int)width;
    out->height = (int)height;
    out->channels = channels;
    out->bit_depth = out_depth;
    out->pixels = pixels;
    return 0;
}

typedef struct {
    uint8_t *data;
    size_t length;
    size_t capacity;
    int failed;
} memory_writer;

static void write_memory(png_structp png, png_bytep source, png_size_t count) {
    memory_writer *writer = png_get_io_ptr(png);
    if (writer->length + count > writer->capacity) {
        size_t capacity = writer->capacity ? writer->capacity * 2 : 4096;
        while (capacity < writer->length + count) capacity *= 2;
        uint8_t *grown = realloc(writer->data, capacity);
        if (!grown) png_error(png, "out of memory");
        writer->data = grown;
        writer->capacity = capacity;
    }
    memcpy(writer->data + writer->length, source, count);
    writer->length += count;
}

static void flush_memory(png_structp png) { (void)png; }

int rs_png_encode8(const uint8_t *pixels, int width, int height, int channels,
                   uint8_t **out, size_t *out_length, char error[256]) {
    error[0] = 0;
    if (channels != 1 && channels != 3) {
        snprintf(error, 256, "PNG: %d channels cannot be encoded (1 or 3)", channels);
        return 1;
    }
    error_context context = {.message = error};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &context, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    memory_writer writer = {0};
    if (!png || !info || setjmp(context.jump)) {
        free(writer.data);
        png_destroy_write_struct(&png, &info);
        if (!error[0]) snprintf(error, 256, "PNG: encode failed");
        return 1;
    }
    png_set_write_fn(png, &writer, write_memory, flush_memory);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * channels));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    *out = writer.data;
    *out_length = writer.length;
    return 0;
}

void rs_image_free(rs_image *image) {
    free(image->pixels);
    image->pixels = NULL;
}

void rs_buffer_free(uint8_t *buffer) { free(buffer); }
