import ChildProcesses
import Foundation
import TestSupport
import Testing
@testable import Pipeline

/// `--json` on the commands that report: one document a script can read.
@Suite("Output for scripts", .serialized)
struct JSONOutputTests {
    /// `--json` on the measuring commands: one document with the figures the text prints.
    @Test func theMeasuringCommandsSpeakJSON() throws {
        let labeler = try ChildProcess.run(Paths.binary.path, [
            "evaluate-labeler", "--reports", Paths.data.appending(path: "openi/reports").path, "--folds", "5", "--json"])
        let folds = try #require((try JSONSerialization.jsonObject(with: Data(labeler.output.utf8)) as? [String: Any])?["folds"] as? [[String: Any]])
        #expect(folds.count == 5 && folds.allSatisfy { ($0["findingsMicroF1AsChosen"] as? Double ?? 0) > 0.85 })
        #expect(folds.allSatisfy { ($0["observations"] as? [String: Any])?.count == 14 && ($0["uncertainReadAsPositive"] as? [String])?.isEmpty == false })

        let evaluate = try ChildProcess.run(Paths.binary.path, [
            "evaluate", "--data", Paths.data.appending(path: "pneumoniamnist/val").path,
            "--model", TestData.packageRoot.appending(path: "models/pneumonia").path, "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(evaluate.output.utf8)) as? [String: Any], "\(evaluate.output)")
        let models = try #require(document["models"] as? [[String: Any]])
        #expect(document["images"] as? Int == 524 && models.count == 1 && document["comparison"] == nil)
        let auc = try #require((models[0]["evaluation"] as? [String: Any])?["auc"] as? Double)
        #expect(auc > 0.99 && (models[0]["evaluation"] as? [String: Any])?["aucInterval"] is [Double])

        // The gates' shares, one row per material and model.
        let gates = try ChildProcess.run(Paths.binary.path, ["evaluate-applicability", "--data", Paths.data.path, "--json"])
        let shares = try #require(((try Self.jsonDocument(in: gates.output))?["tables"] as? [[String: Any]])?.first?["rows"] as? [[String: Any]],
                                  "\(gates.output.suffix(500))")
        #expect(shares.contains { $0["material"] as? String == "its validation films" && ($0["share applicable"] as? Double ?? 0) > 0.9 })

        // A benchmark's tables, figures as numbers (its progress on standard error).
        let engine = try ChildProcess.run(Paths.binary.path, ["benchmark", "engine", "--network-only", "--seconds", "0.05", "--json"])
        let tables = try #require((try Self.jsonDocument(in: engine.output))?["tables"] as? [[String: Any]], "\(engine.output)")
        let rows = try #require(tables.first?["rows"] as? [[String: Any]])
        #expect(rows.count == 5 && rows.allSatisfy { ($0["images/s"] as? Double ?? 0) > 0 })
    }

    /// The JSON document a command printed, found among the lines of standard error it was captured with.
    static func jsonDocument(in output: String) throws -> [String: Any]? {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(of: "{"), let end = lines.lastIndex(of: "}"), start < end else { return nil }
        return try JSONSerialization.jsonObject(with: Data(lines[start...end].joined(separator: "\n").utf8)) as? [String: Any]
    }

    /// The demo's summary for a script: the counts and where everything runs, and no password.
    @Test func theDemoSummarizesAsJSON() throws {
        let environment = try TestEnvironment.get()
        let workDir = environment.root.appending(path: "demo-json-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: workDir) }
        let run = try ChildProcess.run(Paths.binary.path, ["demo", "--data", Paths.data.path, "--work-dir", workDir.path,
                                                           "--limit", "4", "--exit-when-done", "--json"],
                                       environment: ["RADSTREAM_SUMMARIZE_REPORTS": "false", "RADSTREAM_CAPTION_IMAGES": "false"])
        #expect(run.status == 0, "\(run.output.suffix(2000))")
        let summary = try #require(try Self.jsonDocument(in: run.output), "\(run.output.suffix(2000))")
        let totals = try #require(summary["totals"] as? [String: Any])
        #expect(totals["sent"] as? Int == 8 && totals["reportRows"] as? Int == 4 && totals["imageRows"] as? Int == 4, "\(totals)")
        #expect((summary["dashboard"] as? String)?.hasPrefix("http://127.0.0.1:") == true && summary["dashboardPasswordFile"] is String)
        #expect((summary["eventsPerSecond"] as? Double ?? 0) > 0 && summary["password"] == nil)
    }
}
