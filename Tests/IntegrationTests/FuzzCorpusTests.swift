import ChildProcesses
import Foundation
import TestSupport
import Testing

/// The fuzzers' findings kept as tests: each fuzz target, built as the package builds it,
/// replays its corpus (`Fuzz/corpus/<target>`, what the fuzzer found worth keeping) and every
/// input that once crashed it or ran it out of memory (`Fuzz/crashes/<target>`).
@Suite("Fuzz corpora replayed")
struct FuzzCorpusTests {
    static let targets = ["FuzzEvents", "FuzzSections", "FuzzIUXML", "FuzzPNG", "FuzzJPEG", "FuzzDICOM"]

    @Test(arguments: targets)
    func everyKeptInputRunsCleanly(target: String) throws {
        let fuzz = TestData.packageRoot.appending(path: "Fuzz")
        let folders = ["corpus", "crashes"].map { fuzz.appending(path: "\($0)/\(target)").path }
            .filter { FileManager.default.fileExists(atPath: $0) }
        let expected = try folders.reduce(0) { $0 + (try FileManager.default.contentsOfDirectory(atPath: $1).count) }
        #expect(expected > 0, "the corpus of \(target) is kept in the repository")
        let binary = TestData.packageRoot.appending(path: ".build/debug/\(target)").path
        let result = try ChildProcess.run(binary, folders)
        #expect(result.status == 0, "\(result.output.suffix(2000))")
        #expect(result.output.contains("replayed \(expected) inputs"), "\(result.output.suffix(500))")
    }
}
