import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Which of OpenBLAS's kernels this process multiplies with, and the remedy when it chose badly.
///
/// OpenBLAS picks its kernels once, as it is loaded, from the processor's model number. Debian
/// 12's OpenBLAS (0.3.21) does not know processors newer than it and falls back: to "Prescott"
/// (SSE3) on an Emerald Rapids Xeon (family 6 model 207), to "Haswell" (AVX2) on an EPYC Zen 5
/// (family 26). On two cores of that Xeon, sgemm then ran at 35 GFLOPS where the AVX-512 kernels
/// it ships run at 180, and training the reference CNN went 2.4× faster with them; on the Zen 5,
/// sgemm 512³ ran at 227–253 GFLOPS with Haswell's kernels and 450–465 with SkylakeX's
/// (`radstream benchmark engine`). OpenBLAS reads the choice from `OPENBLAS_CORETYPE` only while
/// it loads, before `main`, so the remedy is to run the program again with it set.
public enum OpenBLASKernels {
    /// The kernels OpenBLAS chose ("Haswell", "SkylakeX", "Prescott", ...).
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The variable OpenBLAS reads its kernels from.
    static let coreTypeVariable = "OPENBLAS_CORETYPE"

    /// OpenBLAS's cores whose kernels use AVX-512 (its names, lowercased).
    static let coresWithAVX512: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]
    /// OpenBLAS's cores whose kernels use AVX2 and FMA, AVX-512 or not.
    static let coresWithAVX2: Set<String> = coresWithAVX512.union(["haswell", "zen"])

    /// The kernels to ask for instead of those chosen, given what the processor can run: only
    /// when OpenBLAS fell back below what the processor has, and never when the user named the
    /// kernels. OpenBLAS itself gives every AVX-512 processor it knows AVX-512 kernels (Zen 4
    /// included), so AVX2 kernels where AVX-512 runs are a fallback too, not a choice.
    /// SkylakeX is asked for rather than Cooperlake: their sgemm is the same, and 0.3.21 does
    /// not accept Cooperlake's name.
    static func betterCore(than chosen: String, avx2AndFMA: Bool, avx512: Bool, userChose: Bool) -> String? {
        guard !userChose else { return nil }
        let core = chosen.lowercased()
        if avx512, avx2AndFMA, !coresWithAVX512.contains(core) { return "SkylakeX" }
        if avx2AndFMA, !coresWithAVX2.contains(core) { return "Haswell" }
        return nil
    }

    /// Runs this program again (same process, same arguments, `execv` of `/proc/self/exe`) with
    /// the kernels this processor can run, when OpenBLAS fell back to older ones. To be called
    /// first thing in `main`, before any state exists that starting again would lose. If the
    /// program cannot be run again, it goes on with the kernels it has.
    public static func relaunchIfOpenBLASFellBack() {
        #if os(Linux)
        guard let core = betterCore(than: coreName, avx2AndFMA: ProcessorFeatures.avx2AndFMA, avx512: ProcessorFeatures.avx512,
                                    userChose: getenv(coreTypeVariable) != nil) else { return }
        // Set before the attempt: should exec fail, or OpenBLAS ignore the name, nothing loops.
        setenv(coreTypeVariable, core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        #endif
    }
}
