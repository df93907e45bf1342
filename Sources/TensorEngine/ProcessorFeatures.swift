import COpenBLAS

/// What this processor and its operating system run of the vector instruction sets the engine's
/// kernels are written for (CPUID and XGETBV, in the COpenBLAS shim), read once: OpenBLAS's choice
/// of kernels is checked against it (`OpenBLASKernels`), and the engine's own C kernels (the
/// direct convolution, exp in vector lanes) run their AVX-512 builds only where it says so.
public enum ProcessorFeatures {
    private static let support = radstream_vector_support_here()

    /// AVX2 and FMA, with the OS saving the ymm registers.
    public static let avx2AndFMA = support.avx2AndFMA != 0
    /// AVX-512 F, DQ, CD, BW and VL, with the OS saving the zmm registers.
    public static let avx512 = support.avx512 != 0
}
