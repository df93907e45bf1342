#ifndef RADSTREAM_CCONVOLUTION_H
#define RADSTREAM_CCONVOLUTION_H

#include <stddef.h>

/* Output channels a direct convolution computes at once: its weights are packed in groups of
   this many, and it takes only a multiple of it. */
#define RADSTREAM_DIRECT_OUTPUT_BLOCK 8

/* Floats of scratch radstream_convolve3x3_avx512 needs: the zero-padded image, then the packed
   weights. */
size_t radstream_convolve3x3_scratch(int channels, int height, int width, int stride, int outputs);

/* One image's 3x3 convolution, padding 1, stride 1 or 2, NCHW (channels x height x width) by OIHW
   weights (outputs x channels x 3 x 3) into outputs x outputHeight x outputWidth, without im2col:
   the image is padded once into `scratch` (with stride 2, each padded row split into its even and
   odd columns, so that every tap still reads a contiguous run), and each output row grows in
   vector registers, 8 output channels at a time, one fused multiply-add per weight and vector of
   pixels. `outputs` must be a multiple of RADSTREAM_DIRECT_OUTPUT_BLOCK. Compiled for AVX-512 (F):
   the caller checks that the processor and operating system run it. */
void radstream_convolve3x3_avx512(const float *input, int channels, int height, int width, int stride,
                                  const float *weight, int outputs, float *output, float *scratch);

/* The weight gradient of the same convolution at stride 1, for one image: adds to `weightGradient`
   (outputs x channels x 3 x 3) the sum over pixels of outputGradient[o][y][x] times the padded
   input at (c, y + ky, x + kx). Two output channels at a time, their nine taps' sums in vector
   registers across each row, reduced once per channel pair. `outputs` must be even; `scratch`
   holds radstream_convolve3x3_scratch(channels, height, width, 1, 0) floats. AVX-512 (F). */
void radstream_convolve3x3_weight_gradient_avx512(const float *input, int channels, int height, int width,
                                                  const float *outputGradient, int outputs, float *weightGradient,
                                                  float *scratch);

#endif
