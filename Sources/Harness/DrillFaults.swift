import Foundation
import Kafka
import Postgres

/// The faults the drill injects, each as it happens to a real deployment.
public enum DrillFault: String, CaseIterable, Codable, Sendable {
    /// The daemon is SIGKILLed (the OOM killer, a node lost) and restarted a second later.
    case daemonKilled = "daemon-killed"
    /// PostgreSQL goes down (fast shutdown: open transactions rolled back) for 2–5 s.
    case postgresRestarted = "postgres-restarted"
    /// One broker refuses every connection for 2–5 s (its partitions keep it as leader).
    case brokerDown = "broker-down"
    /// Every partition's leadership moves to a broker chosen at random.
    case leadersMoved = "leaders-moved"
}

/// Injects one fault at a time into the drill's servers.
struct DrillFaults {
    let daemon: DrillDaemon
    let postgres: LocalPostgresServer
    let broker: EmbeddedBroker
    let topics: [String]
    let partitions: Int

    func inject(_ fault: DrillFault, using generator: inout some RandomNumberGenerator) throws {
        switch fault {
        case .daemonKilled:
            daemon.kill()
            Thread.sleep(forTimeInterval: 1)
            try daemon.start()
        case .postgresRestarted:
            try postgres.stop()
            Thread.sleep(forTimeInterval: Double.random(in: 2...5, using: &generator))
            try postgres.start()
        case .brokerDown:
            let down = Int32.random(in: broker.brokerIDs, using: &generator)
            try broker.setBroker(down, up: false)
            Thread.sleep(forTimeInterval: Double.random(in: 2...5, using: &generator))
            try broker.setBroker(down, up: true)
        case .leadersMoved:
            for topic in topics {
                for partition in 0..<partitions {
                    try broker.setLeader(of: topic, partition: Int32(partition), to: Int32.random(in: broker.brokerIDs, using: &generator))
                }
            }
        }
    }
}
