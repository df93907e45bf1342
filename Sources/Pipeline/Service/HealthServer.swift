import Hummingbird
import Logging

/// `/healthz` (the process answers), `/readyz` (consuming with a database) and `/metrics`
/// (Prometheus text format), on the configured host and port.
public enum HealthServer {
    public static func application(configuration: RadStreamConfiguration, status: DaemonStatus, metrics: DaemonMetrics,
                                   logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            // The reasons name no secret: PostgreSQL's message and SQLSTATE, topics, partitions.
            let reasons = status.notReadyReasons
            return Response(status: reasons.isEmpty ? .ok : .serviceUnavailable,
                            headers: [.contentType: "text/plain"],
                            body: .init(byteBuffer: ByteBuffer(string: reasons.isEmpty ? "ready\n"
                                                                   : "not ready: \(reasons.joined(separator: "; "))\n")))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.http.host, port: configuration.http.port),
                                 serverName: "radstream"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }
}
