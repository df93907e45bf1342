import ArgumentParser
import Foundation
import Harness

struct GatewayBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Instances/s through the gateway's C-STORE onto Kafka, beside DCMTK's storescp.",
        discussion: """
            Makes --instances copies of the shared data's chest DICOM (1024², JPEG baseline), each its \
            own study (dcmodify), and sends them with DCMTK's storescu — one process per association, \
            each its share — first to DCMTK's storescp (files written as received, nothing else: the \
            ceiling), then to `radstream gateway` on the embedded broker (each instance checked, \
            decoded, synced, renamed and acknowledged by Kafka before its answer). Prints instances/s, \
            MB/s, the receiver's peak memory (VmHWM) and the gateway's rate as a share of storescp's. \
            Needs Debian's dcmtk (ops/setup.sh installs it). Build in release mode first: ops/setup.sh.

            Example: radstream benchmark gateway --instances 1000 --associations 1,4
            """)

    @Option(help: "Instances to send.") var instances = 1000
    @Option(help: "Concurrent associations to measure, comma-separated.") var associations = "1,4"
    @Option(help: "The shared data folder.") var data = ProcessInfo.processInfo.environment["RADSTREAM_DATA"] ?? "../shared/data"
    @Option(help: "Where the benchmark keeps its instances and what the receivers write (recreated).") var workDir = "var/benchmark-gateway"
    @Flag(help: "Print the figures as one JSON document (progress to standard error) instead of tables.") var json = false

    private var counts: [Int] { associations.split(separator: ",").compactMap { Int($0) } }

    func validate() throws {
        guard instances > 0 else { throw ValidationError("--instances must be positive") }
        guard !counts.isEmpty, counts.allSatisfy({ (1...32).contains($0) }),
              counts.count == associations.split(separator: ",").count else {
            throw ValidationError("--associations must be numbers in 1...32, comma-separated")
        }
    }

    func run() throws {
        let outcome = try GatewayBenchmark(options: .init(
            instances: instances, associations: counts, data: URL(filePath: data).standardizedFileURL,
            workDir: URL(filePath: workDir).standardizedFileURL, binary: Provenance.binary)).run(log: {
                if json { FileHandle.standardError.write(Data("benchmark: \($0)\n".utf8)) } else { print("benchmark: \($0)") }
            })
        let (measured, bytesPerInstance) = (outcome.measured, Double(outcome.bytes) / Double(instances))
        let report = TablesOutput("benchmark: \(instances) instances by C-STORE", json: json)
        report.table(["receiver", "associations", "acknowledged", "on Kafka", "instances/s", "MB/s", "peak MiB", "share of storescp"])
        for row in measured {
            let ceiling = measured.first { $0.associations == row.associations && $0.onKafka == nil }
            report.row([row.receiver, "\(row.associations)", "\(row.acknowledged)", row.onKafka.map(String.init) ?? "—",
                        String(format: "%.1f", row.rate), String(format: "%.1f", row.rate * bytesPerInstance / 1e6), "\(row.peakMiB)",
                        ceiling.map { String(format: "%.2f", row.rate / $0.rate) } ?? "—"])
        }
        try report.finish()
    }
}
