#include "CVectorMath.h"

#include <immintrin.h>

static int first_maximum_baseline(const float *values, int count) {
    int best = 0;
    for (int k = 1; k < count; k++) {
        if (values[k] > values[best]) best = k;
    }
    return best;
}

/* The largest value in lanes, then the first block that holds it. */
__attribute__((target("avx512f"))) static int first_maximum_avx512(const float *values, int count) {
    const int whole = count / 16 * 16;
    const __mmask16 tail = (__mmask16)((1u << (count - whole)) - 1);
    __m512 largest = _mm512_set1_ps(-__builtin_inff());
    for (int k = 0; k < whole; k += 16) largest = _mm512_max_ps(largest, _mm512_loadu_ps(values + k));
    largest = _mm512_max_ps(largest, _mm512_mask_loadu_ps(_mm512_set1_ps(-__builtin_inff()), tail, values + whole));
    const float m = _mm512_reduce_max_ps(largest);
    const __m512 target = _mm512_set1_ps(m);
    for (int k = 0; k < whole; k += 16) {
        const __mmask16 equal = _mm512_cmp_ps_mask(_mm512_loadu_ps(values + k), target, _CMP_EQ_OQ);
        if (equal) return k + __builtin_ctz(equal);
    }
    const __mmask16 equal = _mm512_mask_cmp_ps_mask(tail, _mm512_maskz_loadu_ps(tail, values + whole), target, _CMP_EQ_OQ);
    /* Only where every value is NaN (no maximum at all) is nothing equal: the first, as the loop above. */
    return equal ? whole + __builtin_ctz(equal) : first_maximum_baseline(values, count);
}

int radstream_first_maximum(const float *values, int count, int avx512) {
    return avx512 ? first_maximum_avx512(values, count) : first_maximum_baseline(values, count);
}

static int within_reach_baseline(const float *scores, const float *residuals, float spread, float bar, int count, int *found,
                                 int capacity) {
    int n = 0;
    for (int k = 0; k < count; k++) {
        if (scores[k] + residuals[k] * spread >= bar) {
            if (n == capacity) return capacity + 1;
            found[n++] = k;
        }
    }
    return n;
}

__attribute__((target("avx512f"))) static int within_reach_avx512(const float *scores, const float *residuals, float spread, float bar,
                                                                  int count, int *found, int capacity) {
    const __m512 s = _mm512_set1_ps(spread), b = _mm512_set1_ps(bar);
    int n = 0;
    for (int k = 0; k < count; k += 16) {
        const __mmask16 lanes = count - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - k)) - 1);
        const __m512 bound = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(lanes, residuals + k), s, _mm512_maskz_loadu_ps(lanes, scores + k));
        unsigned reach = _mm512_mask_cmp_ps_mask(lanes, bound, b, _CMP_GE_OQ);
        while (reach) {
            if (n == capacity) return capacity + 1;
            found[n++] = k + __builtin_ctz(reach);
            reach &= reach - 1;
        }
    }
    return n;
}

int radstream_within_reach(const float *scores, const float *residuals, float spread, float bar, int count, int *found, int capacity,
                           int avx512) {
    return avx512 ? within_reach_avx512(scores, residuals, spread, bar, count, found, capacity)
                  : within_reach_baseline(scores, residuals, spread, bar, count, found, capacity);
}
