import ChildProcesses
import Foundation
import Postgres
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
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        let byID = Dictionary(uniqueKeysWithValues: lines.map { ($0["report_id"] as! String, $0) })
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
}
