import ChildProcesses
import Foundation
import Imaging
import Postgres
import Registry
import SelfTraining
import Testing
@testable import Pipeline

@Suite("The command line and the servers it stands on", .serialized)
struct CommandLineTests {
    @Test func migrateTwiceChangesNothing() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("migrate_twice")  // migrated once already
        let first = try ChildProcess.run(Paths.binary.path, ["migrate", "--postgres", conninfo])
        #expect(first.status == 0)
        #expect(first.output.contains("up to date"))
        let database = try PostgresConnection(conninfo)
        let versions = try database.execute("SELECT count(*) FROM schema_migrations").scalarInt
        #expect(versions == (try DatabaseMigrations.all().count))
        // A migration edited after it was applied is refused, not silently skipped.
        var edited = try DatabaseMigrations.all()
        edited[0] = Migration(version: edited[0].version, name: edited[0].name, sql: edited[0].sql + "\n-- edited")
        #expect(throws: PostgresError.self) { try Migrator(connection: database).apply(edited) }
    }

    @Test func sectionsWritesOneLinePerFileAndGoesOnPastBadOnes() throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "sections-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(contentsOf: Paths.data.appending(path: "openi/reports/1000.xml")).write(to: folder.appending(path: "1000.xml"))
        try "FINDINGS: Clear lungs.\nIMPRESSION: Normal chest.".write(to: folder.appending(path: "a.txt"), atomically: true, encoding: .utf8)
        try "<eCitation><Abstract>".write(to: folder.appending(path: "broken.xml"), atomically: true, encoding: .utf8)
        let out = folder.appending(path: "out.jsonl")
        let result = try ChildProcess.run(Paths.binary.path, ["sections", "--reports", folder.path, "--out", out.path])
        #expect(result.status == 0)
        let byID = try Self.lines(of: out, by: "report_id")
        #expect(byID.count == 3)
        let iu = byID["1000"]?["sections"] as? [String: String]
        #expect(iu?.keys.sorted() == ["comparison", "findings", "impression", "indication"])
        #expect((byID["a"]?["sections"] as? [String: String]) == ["findings": "Clear lungs.", "impression": "Normal chest."])
        #expect(byID["broken"]?["error"] is String && byID["broken"]?["sections"] == nil)

        // Nothing readable at all: a non-zero exit.
        try FileManager.default.removeItem(at: folder.appending(path: "1000.xml"))
        try FileManager.default.removeItem(at: folder.appending(path: "a.txt"))
        #expect(try ChildProcess.run(Paths.binary.path, ["sections", "--reports", folder.path, "--out", out.path]).status != 0)
    }

    /// `label`: the contract's 14 observations per report, an error line for an unreadable one.
    @Test func labelWritesTheFourteenObservationsPerReport() throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "label-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(contentsOf: Paths.data.appending(path: "openi/reports/1000.xml")).write(to: folder.appending(path: "1000.xml"))
        try "FINDINGS: Small left pleural effusion. No pneumothorax.\nIMPRESSION: Possible pneumonia."
            .write(to: folder.appending(path: "a.txt"), atomically: true, encoding: .utf8)
        try "<eCitation><Abstract>".write(to: folder.appending(path: "broken.xml"), atomically: true, encoding: .utf8)
        let out = folder.appending(path: "out.jsonl")
        let result = try ChildProcess.run(Paths.binary.path, ["label", "--reports", folder.path, "--out", out.path])
        #expect(result.status == 0, "\(result.output)")
        let byID = try Self.lines(of: out, by: "report_id")
        #expect(byID.keys.sorted() == ["1000", "a", "broken"])
        let a = try #require(byID["a"]?["labels"] as? [String: String])
        #expect(a.keys.sorted() == ["Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Enlarged Cardiomediastinum", "Fracture",
                                    "Lung Lesion", "Lung Opacity", "No Finding", "Pleural Effusion", "Pleural Other", "Pneumonia",
                                    "Pneumothorax", "Support Devices"])
        #expect(a["Pleural Effusion"] == "positive" && a["Pneumothorax"] == "negative" && a["Pneumonia"] == "uncertain")
        #expect(a["No Finding"] == "absent" && a["Fracture"] == "absent")
        #expect((byID["1000"]?["labels"] as? [String: String])?.count == 14)
        #expect(byID["broken"]?["error"] is String)
    }

    /// `summarize`: the contract's fields per report, generated from the FINDINGS alone (two
    /// reports that differ only in their IMPRESSION get the same one), an error line for a report
    /// without FINDINGS, and a non-zero exit when nothing could be summarized.
    @Test func summarizeWritesAnImpressionFromTheFindingsAlone() throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "summarize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(contentsOf: Paths.data.appending(path: "openi/reports/1000.xml")).write(to: folder.appending(path: "1000.xml"))
        let findings = "Small left pleural effusion. No pneumothorax. Heart size normal."
        try "FINDINGS: \(findings)\nIMPRESSION: Possible pneumonia.".write(to: folder.appending(path: "a.txt"), atomically: true, encoding: .utf8)
        try "FINDINGS: \(findings)\nIMPRESSION: Something else entirely.".write(to: folder.appending(path: "b.txt"), atomically: true, encoding: .utf8)
        try "IMPRESSION: Normal chest.".write(to: folder.appending(path: "no-findings.txt"), atomically: true, encoding: .utf8)
        let out = folder.appending(path: "out.jsonl")
        let result = try ChildProcess.run(Paths.binary.path, ["summarize", "--reports", folder.path, "--out", out.path])
        #expect(result.status == 0, "\(result.output)")
        let byID = try Self.lines(of: out, by: "report_id")
        #expect(byID.keys.sorted() == ["1000", "a", "b", "no-findings"])
        #expect(byID["a"]?["findings"] as? String == findings)
        let generated = try #require(byID["a"]?["impression"] as? String)
        #expect(!generated.isEmpty && byID["b"]?["impression"] as? String == generated)
        #expect(!generated.contains("Something else"))
        #expect((byID["1000"]?["impression"] as? String)?.isEmpty == false)
        #expect(byID["no-findings"]?["error"] is String && byID["no-findings"]?["impression"] == nil)
        // By default it draws on the IU folder as its memory, where report 1000 is too: a report
        // is never its own neighbour, so 1000's own (unique) impression is not what it gets.
        #expect(result.output.contains("greedy, reranked with a memory of"), "\(result.output)")
        #expect((byID["1000"]?["impression"] as? String)?.contains("Recommend chest CT") == false)
        // The model alone (beam search by default) writes the same fields.
        let alone = try ChildProcess.run(Paths.binary.path, ["summarize", "--reports", folder.path, "--out", out.path, "--no-memory"])
        #expect(alone.status == 0 && alone.output.contains("beam 4, the model alone"), "\(alone.output)")
        #expect(try Self.lines(of: out, by: "report_id")["a"]?["impression"] is String)

        for file in ["1000.xml", "a.txt", "b.txt"] { try FileManager.default.removeItem(at: folder.appending(path: file)) }
        #expect(try ChildProcess.run(Paths.binary.path, ["summarize", "--reports", folder.path, "--out", out.path]).status != 0)
    }

    /// `caption`: the contract's fields per image of any kind, an error line for a broken file,
    /// and a non-zero exit when nothing could be captioned.
    @Test func captionWritesAnImpressionPerImage() throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "caption-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for file in ["pneumoniamnist/val/val_00000.png", "samples/1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"] {
            let source = Paths.data.appending(path: file)
            try Data(contentsOf: source).write(to: folder.appending(path: source.lastPathComponent))
        }
        try Data("not an image".utf8).write(to: folder.appending(path: "broken.png"))
        let out = folder.appending(path: "out.jsonl")
        let result = try ChildProcess.run(Paths.binary.path, ["caption", "--images", folder.path, "--out", out.path])
        #expect(result.status == 0, "\(result.output)")
        let byFile = try Self.lines(of: out, by: "file")
        #expect(byFile.count == 3)
        #expect((byFile["val_00000.png"]?["impression"] as? String)?.isEmpty == false)
        #expect((byFile["1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"]?["impression"] as? String)?.isEmpty == false)
        #expect(byFile["broken.png"]?["error"] is String && byFile["broken.png"]?["impression"] == nil)

        try FileManager.default.removeItem(at: folder.appending(path: "val_00000.png"))
        try FileManager.default.removeItem(at: folder.appending(path: "1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"))
        #expect(try ChildProcess.run(Paths.binary.path, ["caption", "--images", folder.path, "--out", out.path]).status != 0)
    }

    /// `classify` on files of every kind and size, with the shipped models: one line per file, the
    /// contract's fields, an error line for a bad file, and the command goes on.
    @Test func classifyWritesOneLinePerImageAndGoesOnPastBadOnes() throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "classify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let samples = ["1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm", "iu_1000_IM-0003-2001.png", "16747_3_1.jpg"]
        for name in samples { try FileManager.default.copyItem(at: Paths.data.appending(path: "samples/\(name)"), to: folder.appending(path: name)) }
        for name in ["val_00000.png", "val_00003.png"] {
            try FileManager.default.copyItem(at: Paths.data.appending(path: "pneumoniamnist/val/\(name)"), to: folder.appending(path: name))
        }
        try Data("not an image".utf8).write(to: folder.appending(path: "broken.png"))
        try Data("ignored".utf8).write(to: folder.appending(path: "notes.txt"))
        let out = folder.appending(path: "out.jsonl")
        let result = try ChildProcess.run(Paths.binary.path, ["classify", "--images", folder.path, "--out", out.path])
        #expect(result.status == 0, "\(result.output)")
        let byFile = try Self.lines(of: out, by: "file")
        #expect(byFile.keys.sorted() == (samples + ["broken.png", "val_00000.png", "val_00003.png"]).sorted())
        #expect(byFile["broken.png"]?["error"] is String && byFile["broken.png"]?["probabilities"] == nil)
        for name in samples + ["val_00000.png", "val_00003.png"] {
            let probability = (byFile[name]?["probabilities"] as? [String: Double])?["pneumonia"]
            #expect(probability.map { (0...1).contains($0) } == true, "\(name)")
        }
        #expect((byFile["val_00000.png"]?["decisions"] as? [String: String])?["pneumonia"] == "pneumonia")
        #expect((byFile["val_00003.png"]?["decisions"] as? [String: String])?["pneumonia"] == "normal")
        // Applicability, per model: the contract's two fields; a paediatric film is the
        // pneumonia model's to read, IU study 1000's lateral adult film is not.
        for name in samples + ["val_00000.png", "val_00003.png"] {
            #expect((byFile[name]?["applicable"] as? [String: Bool])?.keys.sorted() == ["covid", "pneumonia"], "\(name)")
            #expect((byFile[name]?["applicability"] as? [String: Double])?.values.allSatisfy { (0...1).contains($0) } == true, "\(name)")
        }
        #expect((byFile["val_00000.png"]?["applicable"] as? [String: Bool])?["pneumonia"] == true)
        #expect((byFile["iu_1000_IM-0003-2001.png"]?["applicable"] as? [String: Bool])?["pneumonia"] == false)
        // Each population check: the adult DICOM is not the paediatric model's, a child's film not the COVID-19 model's.
        #expect((byFile[samples[0]]?["applicable"] as? [String: Bool])?["pneumonia"] == false)
        #expect((byFile["val_00000.png"]?["applicable"] as? [String: Bool])?["covid"] == false)

        // Nothing readable: a non-zero exit. A model that is not there: a clear error.
        for name in samples + ["val_00000.png", "val_00003.png"] { try FileManager.default.removeItem(at: folder.appending(path: name)) }
        #expect(try ChildProcess.run(Paths.binary.path, ["classify", "--images", folder.path, "--out", out.path]).status != 0)
        let missing = try ChildProcess.run(Paths.binary.path, ["classify", "--images", folder.path, "--out", out.path, "--model", "/nonexistent"])
        #expect(missing.status != 0 && missing.output.contains("/nonexistent"))
    }

    /// `train classifier` cross-validates the recipe, then serves the final model with the
    /// temperature and threshold of the out-of-fold predictions and only measures `val`; with
    /// `--cross-validate-only` it writes the fold table and no model.
    @Test func trainClassifierCrossValidatesAndServesTheFoldsCalibration() throws {
        let out = FileManager.default.temporaryDirectory.appending(path: "train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let common = ["train", "classifier", "--data", Paths.data.appending(path: "pneumoniamnist").path, "--epochs", "1",
                      "--channels", "4,8,8", "--label-fraction", "0.1", "--folds", "2", "--batch-size", "32"]
        let result = try ChildProcess.run(Paths.binary.path, common + ["--out", out.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("fold 2/2 epoch 1/1") && result.output.contains("cross-validation: AUC"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appending(path: "manifest.json"))) as? [String: Any])
        let folds = try #require(manifest["crossValidation"] as? [String: Any])
        #expect((folds["perFold"] as? [[String: Any]])?.count == 2)
        #expect((folds["threshold"] as? Double).map { Float($0) } == (manifest["threshold"] as? Double).map { Float($0) })
        #expect((folds["temperature"] as? Double).map { Float($0) } == (manifest["temperature"] as? Double).map { Float($0) })
        #expect((manifest["validation"] as? [String: Any])?["balancedAccuracy"] is Double)
        #expect((manifest["choices"] as? [String: String])?["threshold"]?.contains("out-of-fold") == true)

        let only = out.appending(path: "folds-only")
        #expect(try ChildProcess.run(Paths.binary.path, common + ["--out", only.path, "--cross-validate-only"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: only.appending(path: "cross-validation.json").path))
        #expect(!FileManager.default.fileExists(atPath: only.appending(path: "model.safetensors").path))
        let bad = try ChildProcess.run(Paths.binary.path, common + ["--out", only.path, "--folds", "1"])
        #expect(bad.status != 0 && bad.output.contains("--folds"))
    }

    /// `explain` draws the Grad-CAM map over the whole film, at a readable size, as a colour PNG.
    @Test func explainDrawsTheSaliencyOverTheImage() throws {
        let out = FileManager.default.temporaryDirectory.appending(path: "explain-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try ChildProcess.run(Paths.binary.path, ["explain", "--image", Paths.data.appending(path: "samples/iu_1000_IM-0003-2001.png").path,
                                                              "--out", out.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains(#""model":"pneumonia""#))
        let drawn = try ImageDecoder().decode([UInt8](Data(contentsOf: out)))
        #expect(drawn.image.width == 840 && drawn.image.height == 1024, "2048×2496 scaled to a 1024-pixel long side")
        let bad = try ChildProcess.run(Paths.binary.path, ["explain", "--image", "/nonexistent.png", "--out", out.path])
        #expect(bad.status != 0 && bad.output.contains("/nonexistent.png"))
    }

    /// The embedded broker is a Kafka cluster any client can use: kcat lists its topics.
    @Test func brokerCommandServesKcat() throws {
        let log = FileManager.default.temporaryDirectory.appending(path: "broker-\(UUID().uuidString).log")
        let pid = try ChildProcess.spawn(Paths.binary.path, ["broker", "--partitions", "2"], outputPath: log.path)
        defer { kill(pid, SIGTERM); #expect(ChildProcess.wait(pid) == 0, "SIGTERM stops the broker cleanly") }
        #expect(try eventually(timeout: .seconds(10)) { (try? String(contentsOf: log, encoding: .utf8))?.contains("127.0.0.1:") == true })
        let bootstrap = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")[0]
        let listing = try ChildProcess.run("kcat", ["-b", String(bootstrap), "-L", "-m", "5"])
        #expect(listing.status == 0, "\(listing.output)")
        #expect(listing.output.contains("3 brokers"))
        for topic in ["radstream.images", "radstream.reports", "radstream.images.dlq", "radstream.reports.dlq"] {
            #expect(listing.output.contains("topic \"\(topic)\" with 2 partitions"))
        }
    }

    /// A demo that fails part-way (here: a models folder that does not exist) stops the
    /// PostgreSQL it started; and a server an earlier run left in the same folder is stopped
    /// before that folder is recreated, not deleted from under it.
    @Test func theDemoStopsWhatItStartedOnFailureAndWhatAnEarlierRunLeft() throws {
        let environment = try TestEnvironment.get()
        let workDir = environment.root.appending(path: "demo-\(UUID().uuidString)")
        let leftover = try LocalPostgresServer(dataDirectory: workDir.appending(path: "postgres"))
        try leftover.start()
        let pidFile = workDir.appending(path: "postgres/postmaster.pid")
        let leftoverPID = try #require(pid_t(try String(contentsOf: pidFile, encoding: .utf8).split(separator: "\n")[0]))

        let result = try ChildProcess.run(Paths.binary.path, ["demo", "--data", Paths.data.path, "--work-dir", workDir.path,
                                                              "--models", "/nonexistent", "--limit", "5", "--exit-when-done"])
        #expect(result.status != 0)
        #expect(result.output.contains("stopped the PostgreSQL an earlier run left running"), "\(result.output)")
        #expect(result.output.contains("cannot load the image classifiers"), "\(result.output)")
        // Gone, or a zombie that no one has reaped yet (no init reaps in some containers).
        let state = (try? String(contentsOfFile: "/proc/\(leftoverPID)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(2).first
        #expect(state == nil || state == "Z", "the earlier run's server is gone")
        #expect(!FileManager.default.fileExists(atPath: pidFile.path), "and the demo's own server is stopped")
        try? FileManager.default.removeItem(at: workDir)
    }

    /// `drill`, short: a stream through one fault of every kind, checked exactly-once at the end.
    @Test func theDrillPassesAStreamThroughEveryKindOfFault() throws {
        let environment = try TestEnvironment.get()
        let workDir = environment.root.appending(path: "drill-\(UUID().uuidString)")
        let report = workDir.appending(path: "report.json")
        let result = try ChildProcess.run(Paths.binary.path, [
            "drill", "--minutes", "0.5", "--rate", "50", "--fault-interval", "3-4", "--bad-every", "20",
            "--data", Paths.data.path, "--work-dir", workDir.path, "--json", report.path,
        ], environment: ["RADSTREAM_SUMMARIZE_REPORTS": "false", "RADSTREAM_CAPTION_IMAGES": "false"])
        #expect(result.status == 0, "\(result.output.suffix(2000))")
        #expect(result.output.contains("PASSED: every event exactly once"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any])
        #expect((json["faults"] as? [String: Int])?.keys.sorted() == ["broker-down", "daemon-killed", "leaders-moved", "postgres-restarted"])
        #expect(json["lost"] as? Int == 0 && json["duplicated"] as? Int == 0 && json["offsetsAtEnd"] as? Bool == true)
        #expect((json["published"] as? Int ?? 0) > 1000)
        try? FileManager.default.removeItem(at: workDir)
    }

    /// The JSON lines a command wrote, by the value of `key` in each.
    /// `self-train --now` runs a round with its progress; `models` lists the versions, promotes
    /// one and rolls back, and the registry follows.
    @Test func selfTrainAndModelsManageTheServedVersion() throws {
        let environment = try TestEnvironment.get()
        let conninfo = try environment.makeDatabase("cli_self_training")
        let database = try PostgresConnection(conninfo)
        try SelfTrainingIntegrationTests.storeUnlabeledImages(100, on: database)
        let refused = try ChildProcess.run(Paths.binary.path, ["self-train", "--postgres", conninfo])
        #expect(refused.status != 0 && refused.output.contains("--now"))
        let empty = try ChildProcess.run(Paths.binary.path, ["models", "list", "--postgres", conninfo])
        #expect(empty.status == 0 && empty.output.contains("no registered versions"))

        let round = try ChildProcess.run(Paths.binary.path, [
            "self-train", "--now", "--postgres", conninfo, "--data", Paths.data.appending(path: "pneumoniamnist").path,
            "--label-fraction", "0.02", "--epochs", "1", "--max-steps", "8"])
        #expect(round.status == 0, "\(round.output)")
        #expect(round.output.contains("100 unlabeled images") && round.output.contains("step 8/8"))
        let decision = try #require(round.output.split(separator: "\n").first { $0.hasPrefix("self-train: promoted") || $0.hasPrefix("self-train: rejected") })
        let candidate = String(decision.split(separator: " ")[2])
        let shipped = try SelfTrainingIntegrationTests.shipped().version

        let listed = try ChildProcess.run(Paths.binary.path, ["models", "list", "--postgres", conninfo])
        #expect(listed.status == 0 && listed.output.contains(shipped) && listed.output.contains(candidate))
        // Both with a gate: the shipped one's from its folder, the candidate's fitted in the round.
        let rows = listed.output.split(separator: "\n").filter { $0.contains(shipped) || $0.contains(candidate) }
        #expect(rows.count == 2 && rows.allSatisfy { $0.contains(" yes ") }, "\(listed.output)")
        #expect(round.output.contains("its applicability gate finds"))
        let registry = ModelRegistry(connection: database)
        if decision.hasPrefix("self-train: rejected") {
            let promoted = try ChildProcess.run(Paths.binary.path, ["models", "promote", candidate, "--postgres", conninfo])
            #expect(promoted.status == 0 && promoted.output.contains("now serves \(candidate)"))
        }
        #expect(try registry.activeVersion(of: "pneumonia") == candidate)
        let rolledBack = try ChildProcess.run(Paths.binary.path, ["models", "rollback", "--model", "pneumonia", "--postgres", conninfo])
        #expect(rolledBack.status == 0 && rolledBack.output.contains("rolled back from \(candidate) to \(shipped)"))
        #expect(try registry.activeVersion(of: "pneumonia") == shipped)
        let unknown = try ChildProcess.run(Paths.binary.path, ["models", "promote", "no-such-version", "--postgres", conninfo])
        #expect(unknown.status != 0 && unknown.output.contains("no registered version no-such-version"))
        let rounds = try ChildProcess.run(Paths.binary.path, ["models", "rounds", "--postgres", conninfo])
        #expect(rounds.status == 0 && rounds.output.contains("manual") && rounds.output.contains(candidate))
        // The same for a script: typed JSON, the figures as numbers.
        let listedJSON = try ChildProcess.run(Paths.binary.path, ["models", "list", "--json", "--postgres", conninfo])
        let versions = try #require(try JSONSerialization.jsonObject(with: Data(listedJSON.output.utf8)) as? [[String: Any]])
        #expect(Set(versions.compactMap { $0["version"] as? String }) == [shipped, candidate])
        #expect(versions.allSatisfy { $0["gated"] as? Bool == true && $0["metrics"] is [String: Any] }, "\(listedJSON.output)")
        let trained = versions.first { $0["version"] as? String == candidate }
        #expect((trained?["metrics"] as? [String: Any])?["auc"] is Double, "the round's validation figures, as numbers")
        let roundsJSON = try ChildProcess.run(Paths.binary.path, ["models", "rounds", "--json", "--postgres", conninfo])
        let logged = try #require(try JSONSerialization.jsonObject(with: Data(roundsJSON.output.utf8)) as? [[String: Any]])
        #expect(logged.count == 1 && logged[0]["trigger"] as? String == "manual" && logged[0]["candidateVersion"] as? String == candidate)
        #expect((logged[0]["candidateValidation"] as? [String: Any])?["auc"] is Double && logged[0]["startedAt"] is String)

        // A database without the registry gets the way to make it, not a migration behind its back.
        let admin = try PostgresConnection("host=127.0.0.1 port=\(environment.postgres.port) dbname=postgres user=radstream")
        try admin.execute("DROP DATABASE IF EXISTS cli_no_registry")
        try admin.execute("CREATE DATABASE cli_no_registry")
        let bare = conninfo.replacingOccurrences(of: "dbname=cli_self_training", with: "dbname=cli_no_registry")
        let unmigrated = try ChildProcess.run(Paths.binary.path, ["models", "list", "--postgres", bare])
        // A failure found while running (exit 1, no usage printed), not a wrong command line (64).
        #expect(unmigrated.status == 1 && unmigrated.output.contains("radstream migrate") && !unmigrated.output.contains("Usage:"),
                "\(unmigrated.output)")
    }

    static func lines(of file: URL, by key: String) throws -> [String: [String: Any]] {
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        return Dictionary(uniqueKeysWithValues: lines.map { ($0[key] as! String, $0) })
    }
}
