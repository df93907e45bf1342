import Dashboard
import Foundation
import Logging
import Models
import ServiceLifecycle
import TensorEngine

/// The daemon's services in one group, shut down together on SIGTERM or SIGINT.
/// What `serve` runs, and the demo in its own process: built here, as Hummingbird's
/// `buildApplication` builds an application, so that the command line only parses and calls.
public enum Daemon {
    public static func group(configuration: RadStreamConfiguration, logger: Logger,
                      onHTTPRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> ServiceGroup {
        let status = DaemonStatus(stallAfter: .seconds(configuration.batch.stallSeconds))
        let metrics = DaemonMetrics()
        let processor = try EventProcessor(configuration: configuration)
        let models = configuration.models.directory.isEmpty ? ModelStore.defaultDirectory().path : configuration.models.directory
        logger.info("models from \(models)", metadata: ["directory": "\(models)"])
        for stage in processor.imageBatchStages { logger.info("model \(stage.name)") }
        logger.info("OpenBLAS kernels \(OpenBLASKernels.coreName)")
        try SelfTrainingScheduler.check(configuration, serving: processor.classifiers.map(\.name))
        let consumer = DaemonService(configuration: configuration, processor: processor,
                                     status: status, metrics: metrics, logger: logger)
        let http = HealthServer.application(configuration: configuration, status: status, metrics: metrics, logger: logger,
                                            onRunning: { port in
                                                logger.info("HTTP on \(configuration.http.host):\(port) (/healthz /readyz /metrics)")
                                                await onHTTPRunning(port)
                                            })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: consumer, successTerminationBehavior: .gracefullyShutdownGroup,
                  failureTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: http),
        ]
        try configuration.results.validate()
        let settings = configuration.dashboard
        try settings.validate()
        if settings.enabled {
            let credentials = try DashboardServer.Credentials(file: URL(filePath: settings.credentialsFile))
            services.append(.init(service: DashboardServer.application(
                conninfo: settings.conninfo.isEmpty ? configuration.postgres.conninfo : settings.conninfo, credentials: credentials,
                host: settings.host, port: settings.port, logger: logger,
                onRunning: { port in logger.info("dashboard on http://\(settings.host):\(port)/") })))
        }
        return ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
    }
}
