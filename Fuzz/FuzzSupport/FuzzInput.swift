import Foundation

#if FUZZING
/// libFuzzer's driver (in its runtime, which `-sanitize=fuzzer` links): runs the fuzzing loop
/// with its command-line options and calls `callback` with each input.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                                 _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                                 _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
#endif

/// The harness of the running target; a C callback cannot capture it.
nonisolated(unsafe) private var installed: ([UInt8]) -> Void = { _ in }

/// What every fuzz target shares. Built by `Fuzz/run.sh` (with `-DFUZZING` and the sanitizers),
/// a target is a libFuzzer binary; built as the package builds it, it replays the files it is
/// given, so that the corpus kept in the repository — every input that once crashed it among
/// them — is run by the test suite.
public enum FuzzInput {
    /// The target's `main`: fuzz `harness`, or replay files through it.
    public static func main(_ harness: @escaping ([UInt8]) -> Void) -> Never {
        installed = harness
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, count in
            installed(data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
            return 0
        })
        #else
        exit(replay(CommandLine.arguments.dropFirst()))
        #endif
    }

    /// Replays every file named (a folder: every file in it, in name order) through the harness;
    /// prints how many. A crash is the harness's, as under libFuzzer.
    static func replay(_ paths: ArraySlice<String>) -> Int32 {
        var count = 0
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("no such file or folder: \(path)\n".utf8))
                return 2
            }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { "\(path)/\($0)" }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                installed(Array(data))
                count += 1
            }
        }
        print("replayed \(count) inputs")
        return 0
    }
}
