#include "CVectorMath.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

/* e^x = 2^n · e^r with n = round(x / ln 2) and |r| ≤ ln 2 / 2; e^r by its Taylor series to r^7
   (the first term left out is below 1e-8 of the sum), 2^n by building the float's exponent. ln 2 is
   split in two so that n · ln2High is exact. Straight-line code that the compiler vectorizes. */
__attribute__((always_inline)) static inline float exp_lane(float x) {
    const float lowest = -87.33654f, highest = 88.0f;
    const float clamped = x < lowest ? lowest : (x > highest ? highest : x);
    /* Adding and taking away 1.5 · 2^23 rounds to the nearest integer. */
    const float n = (clamped * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    const float r = (clamped - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const int bits = ((int)n + 127) << 23;
    float power;
    memcpy(&power, &bits, sizeof power);
    return x < lowest ? 0.0f : p * power;
}

static void exp_shifted_baseline(float *values, int count, float shift) {
    for (int k = 0; k < count; k++) values[k] = exp_lane(values[k] - shift);
}

__attribute__((target("avx512f"))) static void exp_shifted_avx512(float *values, int count, float shift) {
    for (int k = 0; k < count; k++) values[k] = exp_lane(values[k] - shift);
}

void radstream_exp_shifted(float *values, int count, float shift, int avx512) {
    if (avx512) {
        exp_shifted_avx512(values, count, shift);
    } else {
        exp_shifted_baseline(values, count, shift);
    }
}

/* x·Φ(x) = x·(1 + erf(x/√2))/2 through erfc(z) = t·e^(−z² + P(t)), t = 1/(1 + z/2), z = |x|/√2: the
   Chebyshev-fitted form of Numerical Recipes' erfcc (its fractional error below 1.2e-7 for every z),
   one exp and one division a lane and no branch, where glibc's erff picks among rational
   approximations by interval, element by element. */
__attribute__((always_inline)) static inline float gelu_lane(float x) {
    const float z = fabsf(x) * 0.70710678118654752f;
    const float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    const float erfc = t * exp_lane(p - z * z);
    return x * (x >= 0 ? 1.0f - 0.5f * erfc : 0.5f * erfc);
}

static void gelu_baseline(float *values, int count) {
    for (int k = 0; k < count; k++) values[k] = gelu_lane(values[k]);
}

__attribute__((target("avx512f"))) static void gelu_avx512(float *values, int count) {
    for (int k = 0; k < count; k++) values[k] = gelu_lane(values[k]);
}

void radstream_gelu(float *values, int count, int avx512) {
    if (avx512) {
        gelu_avx512(values, count);
    } else {
        gelu_baseline(values, count);
    }
}

/* The body of radstream_attend, compiled twice (baseline and AVX-512) and, in each, once more for
   the shapes the shipped transformers have (width 128 in 4 heads; the copy head's 128 in 1), where
   the constants let every loop unroll into registers.

   Scores: sixteen keys' scores grow in one register, a broadcast element of the query at a time,
   reading each panel front to back; four panels (of any heads) at once, four independent chains of
   adds where one chain waited on each add's latency. Outputs: each value row read once for every
   head, each output element's sum in a register of its own. Every float sum runs in the order a loop
   over keys and elements gives (lanes only across keys or elements), no product fused into its sum
   (which the AVX-512 build could otherwise do): each build gives the bits the plans' Swift loops gave
   with the same build of exp_lane. */
__attribute__((always_inline)) static inline void attend_body(const float *query, const float *keys, int columns, const float *values,
                                                              int value_stride, int count, const _Bool *real, int width, int heads,
                                                              float *scores, float *output) {
#pragma clang fp contract(off)
    const int depth = width / heads, chunks = (count + 15) / 16, panels = heads * chunks, stride = chunks * 16;
    const float scale = 1.0f / sqrtf((float)depth);
    float weights[heads * stride];  /* each head's scores, then its attention weights */
    for (int first = 0; first < panels; first += 4) {
        const float *panel[4], *q[4];
        for (int k = 0; k < 4; k++) {
            /* Past the last panel, the first again: computed, never stored. */
            const int index = first + k < panels ? first + k : first, head = index / chunks, chunk = index % chunks;
            panel[k] = keys + ((head * (columns / 16) + chunk) * depth) * 16;
            q[k] = query + head * depth;
        }
        float dots[4][16] = {{0}};
        for (int j = 0; j < depth; j++) {
            for (int k = 0; k < 4; k++) {
                const float element = q[k][j];
                for (int lane = 0; lane < 16; lane++) dots[k][lane] += element * panel[k][j * 16 + lane];
            }
        }
        for (int k = 0; k < 4 && first + k < panels; k++) {
            const int head = (first + k) / chunks, chunk = (first + k) % chunks;
            for (int lane = 0; lane < 16; lane++) weights[head * stride + chunk * 16 + lane] = dots[k][lane] * scale;
        }
    }
    for (int head = 0; head < heads; head++) {
        float *w = weights + head * stride;
        float largest = -INFINITY;
        for (int s = 0; s < count; s++) {
            if ((!real || real[s]) && w[s] > largest) largest = w[s];
        }
        for (int s = 0; s < count; s++) w[s] = exp_lane(w[s] - largest);
        float total = 0;
        for (int s = 0; s < count; s++) {
            if (real && !real[s]) w[s] = 0;
            total += w[s];
        }
        for (int s = 0; s < count; s++) w[s] /= total;
    }
    float sums[width];
    for (int j = 0; j < width; j++) sums[j] = 0;
    for (int s = 0; s < count; s++) {
        const float *value = values + (long)s * value_stride;
        for (int head = 0; head < heads; head++) {
            const float weight = weights[head * stride + s];
            if (weight == 0) continue;
            for (int j = head * depth; j < (head + 1) * depth; j++) sums[j] += weight * value[j];
        }
    }
    for (int j = 0; j < width; j++) output[j] = sums[j];
    for (int s = 0; s < count; s++) scores[s] = weights[(heads - 1) * stride + s];
}

/* attend_body with the shipped shapes' constants, or as given. */
#define ATTEND_BY_SHAPE                                                                                              \
    if (width == 128 && heads == 4) {                                                                                \
        attend_body(query, keys, columns, values, value_stride, count, real, 128, 4, scores, output);               \
    } else if (width == 128 && heads == 1) {                                                                         \
        attend_body(query, keys, columns, values, value_stride, count, real, 128, 1, scores, output);               \
    } else {                                                                                                         \
        attend_body(query, keys, columns, values, value_stride, count, real, width, heads, scores, output);         \
    }

static void attend_baseline(const float *query, const float *keys, int columns, const float *values, int value_stride, int count,
                            const _Bool *real, int width, int heads, float *scores, float *output) {
    ATTEND_BY_SHAPE
}

__attribute__((target("avx512f"))) static void attend_avx512(const float *query, const float *keys, int columns, const float *values,
                                                             int value_stride, int count, const _Bool *real, int width, int heads,
                                                             float *scores, float *output) {
    ATTEND_BY_SHAPE
}

void radstream_attend(const float *query, const float *keys, int columns, const float *values, int value_stride, int count,
                      const _Bool *real, int width, int heads, float *scores, float *output, int avx512) {
    if (avx512) {
        attend_avx512(query, keys, columns, values, value_stride, count, real, width, heads, scores, output);
    } else {
        attend_baseline(query, keys, columns, values, value_stride, count, real, width, heads, scores, output);
    }
}

/* radstream_linear_avx512: a tile of four rows by up to 64 outputs grows in registers, the weight's
   row of each input element loaded once for the four rows and each input element broadcast once
   for the 64 outputs; no copy of either matrix (the weight is already inputs × outputs, rows of
   outputs adjacent). Inlined with both counts constant, so that the accumulators stay in registers. */
__attribute__((target("avx512f"), always_inline)) static inline void
linear_tile(const float *input, int inputs, const float *weight, int outputs, const float *bias, float *output, int rows,
            int vectors, __mmask16 last) {
    __m512 acc[4][4];
    for (int v = 0; v < vectors; v++) {
        const __mmask16 mask = v == vectors - 1 ? last : (__mmask16)0xFFFF;
        const __m512 start = bias ? _mm512_maskz_loadu_ps(mask, bias + 16 * v) : _mm512_setzero_ps();
        for (int r = 0; r < rows; r++) acc[r][v] = start;
    }
    for (int i = 0; i < inputs; i++) {
        __m512 w[4];
        for (int v = 0; v < vectors; v++) {
            w[v] = _mm512_maskz_loadu_ps(v == vectors - 1 ? last : (__mmask16)0xFFFF, weight + (size_t)i * outputs + 16 * v);
        }
        for (int r = 0; r < rows; r++) {
            const __m512 x = _mm512_set1_ps(input[(size_t)r * inputs + i]);
            for (int v = 0; v < vectors; v++) acc[r][v] = _mm512_fmadd_ps(w[v], x, acc[r][v]);
        }
    }
    for (int r = 0; r < rows; r++) {
        for (int v = 0; v < vectors; v++) {
            _mm512_mask_storeu_ps(output + (size_t)r * outputs + 16 * v, v == vectors - 1 ? last : (__mmask16)0xFFFF, acc[r][v]);
        }
    }
}

__attribute__((target("avx512f"))) void radstream_linear_avx512(const float *input, int rows, int inputs, const float *weight,
                                                                int outputs, const float *bias, float *output) {
    for (int first = 0; first < outputs; first += 64) {
        const int left = outputs - first, vectors = left >= 64 ? 4 : (left + 15) / 16, tail = left - 16 * (vectors - 1);
        const __mmask16 last = (__mmask16)((1u << (tail < 16 ? tail : 16)) - 1);
        for (int r = 0; r < rows; r += 4) {
            const int count = rows - r < 4 ? rows - r : 4;
            const float *x = input + (size_t)r * inputs, *w = weight + first, *b = bias ? bias + first : NULL;
            float *y = output + (size_t)r * outputs + first;
#define LINEAR_CASE(R, V) \
    case (R) * 8 + (V): linear_tile(x, inputs, w, outputs, b, y, R, V, last); break;
#define LINEAR_ROW(R) LINEAR_CASE(R, 1) LINEAR_CASE(R, 2) LINEAR_CASE(R, 3) LINEAR_CASE(R, 4)
            switch (count * 8 + vectors) {
                LINEAR_ROW(1) LINEAR_ROW(2) LINEAR_ROW(3) LINEAR_ROW(4)
            }
#undef LINEAR_ROW
#undef LINEAR_CASE
        }
    }
}
