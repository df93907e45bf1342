import ChildProcesses
import Events
import Foundation
import Postgres
import Testing
@testable import Pipeline

/// Poison pills: an event on which the daemon crashes, or hangs, is consumed again on every
/// restart. The test plays systemd (`Restart=on-failure`): it restarts the daemon each time it dies.
@Suite("Poison pills, end to end", .serialized)
struct PoisonPillIntegrationTests {
    enum Fault: String, CaseIterable { case crash = "RADSTREAM_FAILPOINT_CRASH", hang = "RADSTREAM_FAILPOINT_HANG" }

    @Test(arguments: Fault.allCases)
    func anEventThatBringsTheDaemonDownIsQuarantinedAfterThreeAttempts(fault: Fault) throws {
        let environment = try TestEnvironment.get()
        let name = "poison_\(fault)"
        let conninfo = try environment.makeDatabase(name)
        var configuration = try environment.deliveryConfiguration(name: name.replacingOccurrences(of: "_", with: "-"), conninfo: conninfo)
        configuration.batch = .init(maxEvents: 20, maxWaitMilliseconds: 100, processingTimeoutSeconds: 2, maxAttempts: 3)
        let factory = try EventFactory()
        let poisonID = "poison-\(UUID().uuidString)"
        try environment.publish(0..<30, factory: factory, configuration: configuration)
        let producer = try EventFactory.producer(for: environment.broker.bootstrapServers)
        let image = try Data(contentsOf: factory.images[0]).base64EncodedString()
        let poison = Event.image(ImageEvent(eventID: poisonID, studyID: "study-1", imageID: "poison", inline: image))
        try producer.send(topic: configuration.kafka.imageTopic, key: Array("study-1".utf8), value: poison.encoded())
        try producer.flush()
        try environment.publish(30..<60, factory: factory, configuration: configuration)

        var downs = 0
        var daemon: DaemonProcess?
        let done = try eventually(timeout: .seconds(150), every: .milliseconds(200)) {
            if let running = daemon, let status = ChildProcess.exitStatus(running.pid) {
                #expect(status != 0, "\(running.output.suffix(500))")
                downs += 1
                daemon = nil
            }
            if daemon == nil {
                daemon = try DaemonProcess(configuration: configuration, directory: environment.root,
                                           environment: [fault.rawValue: poisonID, "SWIFT_BACKTRACE": "enable=no"])
            }
            return try Counts.read(conninfo).total == 61
        }
        let last = try #require(daemon)
        #expect(last.stop(with: SIGTERM) == 0, "\(last.output.suffix(1000))")
        #expect(done)
        #expect(downs == 3, "brought down once per attempt, then no more")
        #expect(try Counts.read(conninfo) == Counts(images: 30, reports: 30, deadLetters: 1, distinctEvents: 60))
        let letter = try PostgresConnection(conninfo).execute("SELECT error_code, error FROM dead_letters").rows.first
        #expect(letter?[0] == "quarantined")
        #expect(letter?[1]?.contains("3 times") == true, "\(String(describing: letter))")
        #expect(try PostgresConnection(conninfo).execute("SELECT count(*) FROM processing_attempts").scalarInt == 0,
                "every attempt forgotten once its records committed")
    }
}
