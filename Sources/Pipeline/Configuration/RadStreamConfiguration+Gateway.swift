import Gateway
import Kafka

extension RadStreamConfiguration {
    /// What `radstream gateway` runs with: its own section, and the daemon's Kafka, topics and
    /// image bounds, so that the events it publishes are ones the daemon takes.
    public var gatewayOptions: Gateway.Options {
        var properties = kafka.properties
        properties["bootstrap.servers"] = kafka.bootstrapServers
        return Gateway.Options(settings: gateway, kafka: KafkaConfiguration(properties),
                               imageTopic: kafka.imageTopic, reportTopic: kafka.reportTopic,
                               deadLetterSuffix: kafka.deadLetterSuffix, allowedRoots: images.allowedRoots,
                               maxFileBytes: images.maxFileBytes, maxPixels: images.maxPixels)
    }
}
