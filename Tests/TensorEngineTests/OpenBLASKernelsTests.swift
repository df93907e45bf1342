import Testing
@testable import TensorEngine

@Suite("OpenBLAS's kernels")
struct OpenBLASKernelsTests {
    /// The kernels asked for instead: only where OpenBLAS fell back below what the processor
    /// runs, and never over the user's own choice.
    @Test func aBetterCoreOnlyWhereOpenBLASFellBack() {
        // Debian's OpenBLAS on a Xeon newer than it knows: Prescott, where AVX-512 runs.
        #expect(OpenBLASKernels.betterCore(than: "Prescott", avx2AndFMA: true, avx512: true, userChose: false) == "SkylakeX")
        #expect(OpenBLASKernels.betterCore(than: "Sandybridge", avx2AndFMA: true, avx512: false, userChose: false) == "Haswell")
        // Debian's OpenBLAS on an EPYC Zen 5: Haswell, where AVX-512 runs.
        #expect(OpenBLASKernels.betterCore(than: "Haswell", avx2AndFMA: true, avx512: true, userChose: false) == "SkylakeX")
        #expect(OpenBLASKernels.betterCore(than: "Zen", avx2AndFMA: true, avx512: true, userChose: false) == "SkylakeX")
        // Kernels that use what the processor has are OpenBLAS's to choose among.
        #expect(OpenBLASKernels.betterCore(than: "Cooperlake", avx2AndFMA: true, avx512: true, userChose: false) == nil)
        #expect(OpenBLASKernels.betterCore(than: "SkylakeX", avx2AndFMA: true, avx512: true, userChose: false) == nil)
        #expect(OpenBLASKernels.betterCore(than: "Zen", avx2AndFMA: true, avx512: false, userChose: false) == nil)
        // Old kernels on an old processor are the right ones, and the user's OPENBLAS_CORETYPE wins.
        #expect(OpenBLASKernels.betterCore(than: "Prescott", avx2AndFMA: false, avx512: false, userChose: false) == nil)
        #expect(OpenBLASKernels.betterCore(than: "Prescott", avx2AndFMA: true, avx512: true, userChose: true) == nil)
    }

    /// What the processor reports is consistent: AVX-512 as OpenBLAS uses it implies AVX2 and FMA.
    @Test func processorSupportIsConsistent() {
        #expect(!ProcessorFeatures.avx512 || ProcessorFeatures.avx2AndFMA)
        #expect(!OpenBLASKernels.coreName.isEmpty)
    }
}
