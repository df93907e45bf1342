import ArgumentParser
import Foundation
import Harness
import Kafka
import Pipeline
import UnixSignals

struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run an embedded Kafka cluster (librdkafka's mock brokers) on loopback until SIGTERM.",
        discussion: """
            Prints the bootstrap address; any Kafka client can produce to it and consume from it, e.g.
              kcat -b <bootstrap> -L
            It keeps its log in memory only, about 5 MB per partition: pace a replay, or send large \
            images by URI. The topics of the configuration and their .dlq twins are created.

            Example: radstream broker --brokers 3 --partitions 6
            """)

    @OptionGroup var options: ConfigurationOptions
    @Option(help: "Number of brokers.") var brokers = 3
    @Option(help: "Partitions per topic.") var partitions = 6

    func run() async throws {
        let configuration = try options.load()
        let broker = try EmbeddedBroker.start(for: configuration, brokers: brokers, partitions: partitions)
        // Written unbuffered: a parent process reads this line through a pipe.
        FileHandle.standardOutput.write(Data((broker.bootstrapServers + "\n").utf8))
        FileHandle.standardError.write(Data("broker: \(brokers) brokers at \(broker.bootstrapServers); topics \(configuration.topics.flatMap { [$0, configuration.deadLetterTopic(for: $0)] }.joined(separator: ", "))\n".utf8))
        for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { break }
        withExtendedLifetime(broker) {}
    }
}
