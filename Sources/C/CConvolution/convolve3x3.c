#include "CConvolution.h"

#include <immintrin.h>
#include <string.h>

enum { BLOCK = RADSTREAM_DIRECT_OUTPUT_BLOCK };

/* Floats of one padded row: with stride 2, its even columns then its odd ones, each half as long. */
static int padded_row(int width, int stride) { return stride == 1 ? width + 2 : 2 * ((width + 3) / 2); }

size_t radstream_convolve3x3_scratch(int channels, int height, int width, int stride, int outputs) {
    return (size_t)channels * (height + 2) * padded_row(width, stride) + (size_t)outputs * channels * 9;
}

/* The image with a border of zeros: every tap of every output then reads inside the buffer. */
static void pad(const float *input, int channels, int height, int width, int stride, float *padded) {
    const int row = padded_row(width, stride), half = row / 2;
    memset(padded, 0, sizeof(float) * (size_t)channels * (height + 2) * row);
    for (int c = 0; c < channels; c++) {
        for (int y = 0; y < height; y++) {
            const float *source = input + ((size_t)c * height + y) * width;
            float *target = padded + ((size_t)c * (height + 2) + y + 1) * row;
            if (stride == 1) {
                memcpy(target + 1, source, sizeof(float) * width);
                continue;
            }
            /* padded column x + 1: even ones to the first half, odd ones to the second */
            for (int x = 0; x < width; x++) target[(x + 1) % 2 * half + (x + 1) / 2] = source[x];
        }
    }
}

/* packed[block][c][tap][j] = weight[block * BLOCK + j][c][tap]: the BLOCK weights one step
   multiplies by are adjacent. */
static void pack(const float *weight, int channels, int outputs, float *packed) {
    for (int o = 0; o < outputs; o++) {
        for (int c = 0; c < channels; c++) {
            for (int tap = 0; tap < 9; tap++) {
                packed[(((size_t)(o / BLOCK) * channels + c) * 9 + tap) * BLOCK + o % BLOCK] = weight[((size_t)o * channels + c) * 9 + tap];
            }
        }
    }
}

/* One output row's run of up to 16 * vectors pixels from x0, for BLOCK output channels. Inlined
   with `vectors` constant, so that the accumulators live in registers. */
__attribute__((target("avx512f"), always_inline)) static inline void
row_block(const float *padded, int channels, int planeSize, int row, const int taps[3], int inputRow,
          const float *packed, int y, int x0, int vectors, __mmask16 first, __mmask16 second, float *output,
          int outputPlane, int width) {
    __m512 low[BLOCK], high[BLOCK];
    for (int j = 0; j < BLOCK; j++) {
        low[j] = _mm512_setzero_ps();
        high[j] = _mm512_setzero_ps();
    }
    for (int c = 0; c < channels; c++) {
        for (int ky = 0; ky < 3; ky++) {
            const float *source = padded + (size_t)c * planeSize + (size_t)(inputRow + ky) * row + x0;
            const float *w = packed + ((size_t)c * 9 + ky * 3) * BLOCK;
            for (int kx = 0; kx < 3; kx++) {
                const __m512 a = _mm512_maskz_loadu_ps(first, source + taps[kx]);
                const __m512 b = vectors > 1 ? _mm512_maskz_loadu_ps(second, source + taps[kx] + 16) : _mm512_setzero_ps();
                for (int j = 0; j < BLOCK; j++) {
                    const __m512 scale = _mm512_set1_ps(w[kx * BLOCK + j]);
                    low[j] = _mm512_fmadd_ps(a, scale, low[j]);
                    if (vectors > 1) high[j] = _mm512_fmadd_ps(b, scale, high[j]);
                }
            }
        }
    }
    for (int j = 0; j < BLOCK; j++) {
        float *target = output + (size_t)j * outputPlane + (size_t)y * width + x0;
        _mm512_mask_storeu_ps(target, first, low[j]);
        if (vectors > 1) _mm512_mask_storeu_ps(target + 16, second, high[j]);
    }
}

__attribute__((target("avx512f"))) void radstream_convolve3x3_avx512(const float *input, int channels, int height, int width,
                                                                    int stride, const float *weight, int outputs,
                                                                    float *output, float *scratch) {
    const int row = padded_row(width, stride), planeSize = (height + 2) * row;
    const int outputHeight = (height - 1) / stride + 1, outputWidth = (width - 1) / stride + 1;
    const int outputPlane = outputHeight * outputWidth;
    /* Where tap kx of output column x reads in a padded row: column x + kx, or with stride 2
       column 2x + kx, which is x in the even half (kx = 0), x in the odd half (1), x + 1 in the
       even half (2). */
    const int taps[3] = {0, stride == 1 ? 1 : row / 2, stride == 1 ? 2 : 1};
    float *padded = scratch, *packed = scratch + (size_t)channels * planeSize;
    pad(input, channels, height, width, stride, padded);
    pack(weight, channels, outputs, packed);
    for (int block = 0; block < outputs / BLOCK; block++) {
        const float *weights = packed + (size_t)block * channels * 9 * BLOCK;
        float *out = output + (size_t)block * BLOCK * outputPlane;
        for (int y = 0; y < outputHeight; y++) {
            for (int x0 = 0; x0 < outputWidth; x0 += 32) {
                const int left = outputWidth - x0;
                const int n0 = left < 16 ? left : 16, n1 = left - 16 < 0 ? 0 : (left - 16 > 16 ? 16 : left - 16);
                const __mmask16 first = (__mmask16)((1u << n0) - 1), second = (__mmask16)((1u << n1) - 1);
                if (n1 > 0) {
                    row_block(padded, channels, planeSize, row, taps, y * stride, weights, y, x0, 2, first, second, out,
                              outputPlane, outputWidth);
                } else {
                    row_block(padded, channels, planeSize, row, taps, y * stride, weights, y, x0, 1, first, second, out,
                              outputPlane, outputWidth);
                }
            }
        }
    }
}

__attribute__((target("avx512f"))) void radstream_convolve3x3_weight_gradient_avx512(const float *input, int channels, int height,
                                                                                    int width, const float *outputGradient,
                                                                                    int outputs, float *weightGradient,
                                                                                    float *scratch) {
    const int row = padded_row(width, 1), planeSize = (height + 2) * row, plane = height * width;
    pad(input, channels, height, width, 1, scratch);
    for (int o = 0; o + 1 < outputs; o += 2) {
        const float *dy0 = outputGradient + (size_t)o * plane, *dy1 = dy0 + plane;
        for (int c = 0; c < channels; c++) {
            const float *padded = scratch + (size_t)c * planeSize;
            __m512 first[9], second[9];
            for (int tap = 0; tap < 9; tap++) {
                first[tap] = _mm512_setzero_ps();
                second[tap] = _mm512_setzero_ps();
            }
            for (int y = 0; y < height; y++) {
                for (int x0 = 0; x0 < width; x0 += 16) {
                    const int left = width - x0;
                    const __mmask16 mask = (__mmask16)((1u << (left < 16 ? left : 16)) - 1);
                    /* Lanes past the row are zero in dY, so what the input has there never counts. */
                    const __m512 g0 = _mm512_maskz_loadu_ps(mask, dy0 + (size_t)y * width + x0);
                    const __m512 g1 = _mm512_maskz_loadu_ps(mask, dy1 + (size_t)y * width + x0);
                    for (int ky = 0; ky < 3; ky++) {
                        const float *source = padded + (size_t)(y + ky) * row + x0;
                        for (int kx = 0; kx < 3; kx++) {
                            const __m512 x = _mm512_maskz_loadu_ps(mask, source + kx);
                            first[ky * 3 + kx] = _mm512_fmadd_ps(g0, x, first[ky * 3 + kx]);
                            second[ky * 3 + kx] = _mm512_fmadd_ps(g1, x, second[ky * 3 + kx]);
                        }
                    }
                }
            }
            float *dw0 = weightGradient + ((size_t)o * channels + c) * 9, *dw1 = dw0 + (size_t)channels * 9;
            for (int tap = 0; tap < 9; tap++) {
                dw0[tap] += _mm512_reduce_add_ps(first[tap]);
                dw1[tap] += _mm512_reduce_add_ps(second[tap]);
            }
        }
    }
}

/* ---- Output channels in the vector lanes ----------------------------------------------- */

enum { TILE = 4, LANES = 16 };

size_t radstream_convolve3x3_channel_lanes_scratch(int channels, int height, int width) {
    return (size_t)channels * (height + 2) * (width + 2) + (size_t)TILE * 4 * LANES;
}

void radstream_convolve3x3_channel_lanes_pack(const float *weight, int channels, int outputs, float *packed) {
    /* Written in order, read with a stride: the other way round took four times as long. */
    for (int c = 0; c < channels; c++) {
        for (int t = 0; t < 9; t++) {
            float *row = packed + ((size_t)c * 9 + t) * outputs;
            const float *source = weight + (size_t)c * 9 + t;
            for (int o = 0; o < outputs; o++) row[o] = source[(size_t)o * channels * 9];
        }
    }
}

/* `pixels` output pixels (whose top-left taps are at `offsets` in a padded plane) for
   16 * `vectors` output channels from `packed` (a row of `stride` floats per channel and tap,
   already offset to the first output channel), into `tile` ([pixel][64]). Inlined with both
   counts constant, so that the pixels × vectors accumulators live in registers: each weight
   vector loaded once per tap serves every pixel of the tile, each broadcast pixel every vector. */
__attribute__((target("avx512f"), always_inline)) static inline void
pixel_tile(const float *padded, int channels, int planeSize, int row, const int *offsets, int pixels, const float *packed,
           int stride, int vectors, float *tile) {
    __m512 acc[TILE][4];
    for (int p = 0; p < pixels; p++) {
        for (int v = 0; v < vectors; v++) acc[p][v] = _mm512_setzero_ps();
    }
    const float *sources[TILE];
    for (int p = 0; p < pixels; p++) sources[p] = padded + offsets[p];
    for (int c = 0; c < channels; c++) {
        const float *w = packed + (size_t)c * 9 * stride;
        for (int ky = 0; ky < 3; ky++) {
            for (int kx = 0; kx < 3; kx++) {
                const float *wt = w + (size_t)(ky * 3 + kx) * stride;
                __m512 weights[4];
                for (int v = 0; v < vectors; v++) weights[v] = _mm512_loadu_ps(wt + v * LANES);
                const int tap = ky * row + kx;
                for (int p = 0; p < pixels; p++) {
                    const __m512 x = _mm512_set1_ps(sources[p][tap]);
                    for (int v = 0; v < vectors; v++) acc[p][v] = _mm512_fmadd_ps(weights[v], x, acc[p][v]);
                }
            }
        }
        for (int p = 0; p < pixels; p++) sources[p] += planeSize;
    }
    for (int p = 0; p < pixels; p++) {
        for (int v = 0; v < vectors; v++) _mm512_storeu_ps(tile + p * 4 * LANES + v * LANES, acc[p][v]);
    }
}

/* A tile for constant counts: the switch names each one the kernel uses. */
__attribute__((target("avx512f"))) static void
pixel_tile_of(const float *padded, int channels, int planeSize, int row, const int *offsets, int pixels, const float *packed,
              int stride, int vectors, float *tile) {
#define TILE_CASE(P, V) \
    case (P) * 8 + (V): pixel_tile(padded, channels, planeSize, row, offsets, P, packed, stride, V, tile); return;
#define TILE_ROW(P) TILE_CASE(P, 1) TILE_CASE(P, 2) TILE_CASE(P, 4)
    switch (pixels * 8 + vectors) {
        TILE_ROW(1) TILE_ROW(2) TILE_ROW(3) TILE_ROW(4)
    }
#undef TILE_ROW
#undef TILE_CASE
}

__attribute__((target("avx512f"))) void radstream_convolve3x3_channel_lanes_avx512(const float *input, int channels, int height,
                                                                                  int width, int stride, const float *packed,
                                                                                  int packedStride, int outputs, float *output,
                                                                                  float *scratch) {
    const int row = width + 2, planeSize = (height + 2) * row;
    const int outputHeight = (height - 1) / stride + 1, outputWidth = (width - 1) / stride + 1;
    const int outputPlane = outputHeight * outputWidth;
    float *padded = scratch, *tile = scratch + (size_t)channels * planeSize;
    pad(input, channels, height, width, 1, padded);
    for (int o0 = 0; o0 < outputs;) {
        const int left = outputs - o0, vectors = left >= 4 * LANES ? 4 : left >= 2 * LANES ? 2 : 1;
        for (int p0 = 0; p0 < outputPlane; p0 += TILE) {
            const int pixels = outputPlane - p0 < TILE ? outputPlane - p0 : TILE;
            int offsets[TILE];
            for (int p = 0; p < pixels; p++) {
                const int y = (p0 + p) / outputWidth, x = (p0 + p) % outputWidth;
                offsets[p] = y * stride * row + x * stride;
            }
            pixel_tile_of(padded, channels, planeSize, row, offsets, pixels, packed + o0, packedStride, vectors, tile);
            for (int v = 0; v < vectors; v++) {
                for (int j = 0; j < LANES; j++) {
                    float *target = output + (size_t)(o0 + v * LANES + j) * outputPlane + p0;
                    for (int p = 0; p < pixels; p++) target[p] = tile[p * 4 * LANES + v * LANES + j];
                }
            }
        }
        o0 += vectors * LANES;
    }
}
