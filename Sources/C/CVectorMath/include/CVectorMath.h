#ifndef RADSTREAM_CVECTORMATH_H
#define RADSTREAM_CVECTORMATH_H

/* values[k] = exp(values[k] - shift) for k < count, in vector lanes: where the decoders' softmaxes
   called libm's expf once per element (7-9% of summarizing and captioning, perf). Within 2 ulp of
   expf for arguments down to -87.3 (exp's smallest normal result); 0 below that, where expf
   gives a subnormal of at most 1.2e-38. Arguments above 88 are not expected (a softmax's are at
   most 0) and saturate there. With `avx512`, the loop compiled for AVX-512 (F) runs: the caller
   checks that the processor and OS run it; otherwise the baseline build's. */
void radstream_exp_shifted(float *values, int count, float shift, int avx512);

/* values[k] = values[k]·Φ(values[k]) (GELU, Φ the standard normal's distribution function) for
   k < count, in vector lanes, where the transformers' plans called libm's erff once per element
   (7-9% of summarizing and captioning, perf): within 3e-7·max(1, |x|) of x·(1 + erff(x/√2))/2.
   `avx512` as for radstream_exp_shifted. */
void radstream_gelu(float *values, int count, int avx512);

/* Attention of one query over `count` keys, per head (width / heads elements each):
   softmax(q·kᵀ/√depth)·v into `output` (width floats), keys with real[s] false (a source's padding)
   left out when `real` is not NULL. The keys lie in panels: element j of head h of key s at
   ((h·(columns/16) + s/16)·depth + j)·16 + s%16, `columns` a multiple of 16 ≥ count; value s at
   values + s·value_stride. `scores` holds `columns` floats and afterwards the last head's
   attention weights (what a copy head copies by). The decoders' plans ran this in Swift SIMD16
   code compiled for the baseline (its loads not even inlined): 12-14% of the image daemon.
   `avx512` as for radstream_exp_shifted. */
void radstream_attend(const float *query, const float *keys, int columns, const float *values, int value_stride, int count,
                      const _Bool *real, int width, int heads, float *scores, float *output, int avx512);

/* output = input·weight + bias: input rows × inputs, weight inputs × outputs (rows of outputs
   adjacent, as the transformers store a linear layer), bias `outputs` floats or NULL, output
   rows × outputs. For the decoders' plans, whose steps multiply a few rows at a time: OpenBLAS
   copies the whole weight into its own layout at every call, and with the AVX2 kernels it runs
   here (OPENBLAS_CORETYPE=Haswell) that copy cost a third as much as the products themselves;
   this reads the weight in place. AVX-512 (F): the caller checks that the processor and OS run it. */
void radstream_linear_avx512(const float *input, int rows, int inputs, const float *weight, int outputs, const float *bias,
                             float *output);

/* The index of the first largest of values[0..count), count ≥ 1, as a scan that keeps the first
   of equals finds it: greedy decoding's argmax over a vocabulary's scores. `avx512` as for
   radstream_exp_shifted. */
int radstream_first_maximum(const float *values, int count, int avx512);

/* The indices k < count, in order, whose bound scores[k] + residuals[k]·spread reaches `bar`,
   into `found` (room for `capacity`); returns how many, or capacity + 1 as soon as there are
   more. What the decoders' most-likely-token screen computes exactly (MostLikelyTokenScreen);
   in Swift's SIMD types built for the baseline, the scan cost more than the products it saved.
   `avx512` as for radstream_exp_shifted. */
int radstream_within_reach(const float *scores, const float *residuals, float spread, float bar, int count, int *found, int capacity,
                           int avx512);

#endif
