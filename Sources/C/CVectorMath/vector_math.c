#include "CVectorMath.h"

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
