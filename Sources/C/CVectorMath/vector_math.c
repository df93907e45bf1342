#include "CVectorMath.h"

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
