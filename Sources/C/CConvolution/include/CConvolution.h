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

/* Floats of scratch radstream_convolve3x3_channel_lanes_avx512 needs: the zero-padded image and
   one tile of results. */
size_t radstream_convolve3x3_channel_lanes_scratch(int channels, int height, int width);

/* OIHW weights (outputs x channels x 3 x 3) as the channel-lane kernel reads them, channels x 9
   taps x outputs: the output channels of one tap adjacent. Once per call over a batch (and once
   for all by an inference plan), not per image: per image it cost a third as much as the
   convolution of a 7 by 7 map. */
void radstream_convolve3x3_channel_lanes_pack(const float *weight, int channels, int outputs, float *packed);

/* The same convolution with 16 output channels in the vector lanes instead of pixels: for small
   maps (7 by 7 and the like), where a row of output pixels fills less than one vector, and for
   32 output channels or more at any size, where it measured faster too. A tile of four
   output pixels by up to 64 channels grows in registers, each weight vector loaded once per tap
   for the four pixels and each pixel broadcast once for the 64 channels — a matrix product's
   register block, reading the padded image in place of im2col's copy. Reads `outputs` channels
   from `packed` (radstream_convolve3x3_channel_lanes_pack's layout, rows of `packedStride`
   floats, offset to the first channel wanted). `outputs` must be a multiple of 16. AVX-512 (F). */
void radstream_convolve3x3_channel_lanes_avx512(const float *input, int channels, int height, int width, int stride,
                                                const float *packed, int packedStride, int outputs, float *output,
                                                float *scratch);

#endif
