#include <cblas.h>

/* OpenBLAS's own name for the kernels it chose when it was loaded ("Haswell", "SkylakeX", ...). */
char *openblas_get_corename(void);

/* What this processor and its operating system can run, read with CPUID and XGETBV: the
   instruction sets OpenBLAS's kernels are written for, each usable only when the OS saves the
   registers it needs (XCR0). Elsewhere than x86-64, none. */
typedef struct {
    int avx2AndFMA;
    int avx512; /* F, DQ, CD, BW and VL: what OpenBLAS's SkylakeX kernels use */
} radstream_vector_support;

#if defined(__x86_64__)
#include <cpuid.h>
static inline radstream_vector_support radstream_vector_support_here(void) {
    radstream_vector_support support = {0, 0};
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return support;
    const int fma = (ecx >> 12) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1;
    if (!osxsave || !avx) return support;
    unsigned int xcr0, xcr0High;
    __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(xcr0High) : "c"(0));
    const int ymmSaved = (xcr0 & 0x6) == 0x6, zmmSaved = (xcr0 & 0xE6) == 0xE6;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return support;
    const int avx2 = (ebx >> 5) & 1;
    const unsigned int avx512Bits = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);
    support.avx2AndFMA = ymmSaved && avx2 && fma;
    support.avx512 = support.avx2AndFMA && zmmSaved && (ebx & avx512Bits) == avx512Bits;
    return support;
}
#else
static inline radstream_vector_support radstream_vector_support_here(void) {
    radstream_vector_support support = {0, 0};
    return support;
}
#endif
