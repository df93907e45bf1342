import ChildProcesses
import Foundation
import TestSupport
import Testing

/// The front door and the help: what a newcomer reads first.
@Suite("README, docs and --help")
struct DocumentationTests {
    static let root = TestData.packageRoot

    /// Every command path (`train classifier`, …) that `--help` lists, groups followed down.
    static func commands(under path: [String] = []) throws -> [(path: [String], help: String)] {
        let help = try ChildProcess.run(Paths.binary.path, path + ["--help"]).output
        guard let start = help.range(of: "SUBCOMMANDS:\n") else { return [(path, help)] }
        var found: [(path: [String], help: String)] = [(path, help)]
        for line in help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { if line.isEmpty { break } else { continue } }
            let name = String(line.split(separator: " ")[0])
            if name == "help" { continue }
            found += try commands(under: path + [name])
        }
        return found
    }

    @Test func everyCommandsHelpHasAnExampleAndWrapsWhole() throws {
        let all = try Self.commands()
        #expect(all.count > 30)
        for (path, help) in all where !path.isEmpty {
            let name = path.joined(separator: " ")
            let group = help.contains("SUBCOMMANDS:")
            // A leaf shows how it is called, or its group does (`models list`, `models promote`).
            let example = help.contains("Example: radstream \(name)")
                || (try all.first { $0.path == Array(path.dropLast()) }.map { $0.help.contains("Example: radstream \(path.dropLast().joined(separator: " "))") } ?? false)
            #expect(example || group, "radstream \(name) --help gives no example")
            // A paragraph wrapped by hand at another width than --help's leaves a short line
            // whose sentence goes on in the next one.
            let text = help.components(separatedBy: "\nUSAGE:")[0].split(separator: "\n", omittingEmptySubsequences: false)
            for (line, next) in zip(text, text.dropFirst()) where !line.hasPrefix(" ") && !next.isEmpty && !next.hasPrefix(" ") {
                let continues = next.first.map { $0.isLowercase || $0 == "(" } ?? false
                #expect(!(line.count < 45 && continues && !line.hasSuffix(":")), "radstream \(name) --help breaks a line early: \(line)⏎\(next)")
            }
        }
    }

    @Test func theReadmeIsAFrontDoor() throws {
        let readme = try String(contentsOf: Self.root.appending(path: "README.md"), encoding: .utf8)
        #expect(readme.split(separator: "\n", omittingEmptySubsequences: false).count <= 150)
        #expect(readme.contains("ops/test.sh") && readme.contains("ops/demo.sh"))
    }

    /// Every relative link of the README, models/README.md and docs/ names a file that exists,
    /// and a heading of it when it has an anchor.
    @Test func everyLinkOfTheDocumentationLeadsSomewhere() throws {
        let docs = FileManager.default.enumerator(at: Self.root.appending(path: "docs"), includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "md" }
        let pages = [Self.root.appending(path: "README.md"), Self.root.appending(path: "models/README.md")] + docs
        #expect(docs.count >= 10)
        let link = /\[[^\]]*\]\(([^)\s]+)\)/
        var checked = 0
        for page in pages {
            let text = try String(contentsOf: page, encoding: .utf8)
            for match in text.matches(of: link) {
                let target = String(match.output.1)
                if target.hasPrefix("http") { continue }
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let file = parts[0].isEmpty ? page : page.deletingLastPathComponent().appending(path: parts[0]).standardized
                #expect(FileManager.default.fileExists(atPath: file.path), "\(page.lastPathComponent): \(target) leads nowhere")
                if parts.count == 2, let heading = try? String(contentsOf: file, encoding: .utf8) {
                    #expect(Self.anchors(of: heading).contains(parts[1]), "\(page.lastPathComponent): no heading for \(target)")
                }
                checked += 1
            }
        }
        #expect(checked > 30)
    }

    /// GitHub's anchors: a heading lowercased, its punctuation dropped, spaces to hyphens.
    static func anchors(of markdown: String) -> Set<String> {
        Set(markdown.split(separator: "\n").filter { $0.hasPrefix("#") }.map { line in
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
            return String(title.filter { $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" || $0 == "_" }.map { $0 == " " ? "-" : $0 })
        })
    }
}
