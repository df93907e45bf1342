import Foundation
import Hummingbird
import Imaging
import Kafka
import Logging
import Reports
import ServiceLifecycle

/// `radstream gateway`: DICOM C-STORE and HL7 MLLP in, RadStream's events out. Nothing is
/// acknowledged to a sender before Kafka has acknowledged its event.
public final class Gateway: Service, @unchecked Sendable {
    public struct Options: Sendable {
        public var settings: GatewaySettings
        public var kafka: KafkaConfiguration
        public var imageTopic: String
        public var reportTopic: String
        public var deadLetterSuffix: String
        public var allowedRoots: [String]
        public var maxFileBytes: Int
        public var maxPixels: Int

        public init(settings: GatewaySettings, kafka: KafkaConfiguration, imageTopic: String, reportTopic: String,
                    deadLetterSuffix: String, allowedRoots: [String], maxFileBytes: Int, maxPixels: Int) {
            self.settings = settings
            self.kafka = kafka
            self.imageTopic = imageTopic
            self.reportTopic = reportTopic
            self.deadLetterSuffix = deadLetterSuffix
            self.allowedRoots = allowedRoots
            self.maxFileBytes = maxFileBytes
            self.maxPixels = maxPixels
        }
    }

    public let counters = GatewayCounters()
    private let options: Options
    private let logger: Logger
    private let onListening: @Sendable (_ dicomPort: Int?, _ hl7Port: Int?) -> Void
    private let storage: StorageSCP?
    private let mllp: MLLPListener?

    /// Checks the settings and prepares the listeners (nothing listens before `run`).
    public init(options: Options, logger: Logger,
                onListening: @escaping @Sendable (_ dicomPort: Int?, _ hl7Port: Int?) -> Void = { _, _ in }) throws {
        try options.settings.validate(allowedRoots: options.allowedRoots)
        self.options = options
        self.logger = logger
        self.onListening = onListening
        let publisher = try GatewayPublisher(configuration: options.kafka, imageTopic: options.imageTopic, reportTopic: options.reportTopic,
                                             deadLetterTopic: options.reportTopic + options.deadLetterSuffix,
                                             acknowledgementSeconds: options.settings.acknowledgementSeconds)
        let settings = options.settings
        let counters = self.counters
        if settings.dicom.enabled {
            let root = URL(filePath: settings.resolvedImageRoot(allowedRoots: options.allowedRoots), directoryHint: .isDirectory)
            // Datasets are received beside where they go, so that placing one is a rename.
            let spool = root.appending(path: ".incoming", directoryHint: .isDirectory)
            do { try FileManager.default.createDirectory(at: spool, withIntermediateDirectories: true) } catch {
                throw GatewayError("cannot create the spool folder \(spool.path): \(error.localizedDescription)")
            }
            Self.removeLeftovers(in: spool, logger: logger)
            let intake = InstanceIntake(imageRoot: root, decoder: ImageDecoder(maxPixels: options.maxPixels), maxFileBytes: options.maxFileBytes,
                                        publisher: publisher, counters: counters, logger: logger)
            storage = try StorageSCP(settings: settings.dicom, spoolDirectory: spool.path) { path, instance in
                intake.accept(spooled: path, instance: instance)
            }
        } else {
            storage = nil
        }
        if settings.hl7.enabled {
            let intake = ReportIntake(publisher: publisher, maxBodyBytes: ReportReader.maxBytes, counters: counters, logger: logger)
            mllp = MLLPListener(settings: settings.hl7, logger: logger) { message, peer in intake.accept(message, from: peer) }
        } else {
            mllp = nil
        }
    }

    /// Listens until graceful shutdown (SIGTERM, SIGINT): then stops accepting, lets what is in
    /// hand finish and be answered, and returns.
    public func run() async throws {
        let hl7Port = try mllp?.start()
        if let hl7Port { logger.info("HL7 MLLP on \(options.settings.hl7.host):\(hl7Port)") }
        let dicomFailure = DicomFailure()
        let dicomDone = DispatchSemaphore(value: 0)
        if let storage {
            // DCMTK's pool reports a port it cannot bind only from its listening thread, and a
            // connection test cannot tell whose port answers: the bind is tried here first.
            guard Self.canBind(port: options.settings.dicom.port) else {
                mllp?.stop()
                throw GatewayError("DICOM listener: port \(options.settings.dicom.port) is in use: \(String(cString: strerror(errno)))")
            }
            let thread = Thread { [logger] in
                defer { dicomDone.signal() }
                do { try storage.listen() } catch {
                    logger.critical("\(error)")
                    dicomFailure.set(error)
                }
            }
            thread.name = "dicom-listener"
            thread.start()
            // DCMTK opens its port inside listen(): "listening" is said only once it answers.
            let deadline = ContinuousClock.now + .seconds(10)
            while dicomFailure.error == nil, !Self.accepts(port: options.settings.dicom.port), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            if let error = dicomFailure.error {
                mllp?.stop()
                throw error
            }
            logger.info("DICOM C-STORE SCP \(options.settings.dicom.aeTitle) on port \(options.settings.dicom.port)")
        } else {
            dicomDone.signal()
        }
        onListening(storage == nil ? nil : options.settings.dicom.port, hl7Port)

        await withGracefulShutdownHandler {
            // Returns at shutdown, or early when the DICOM port could not be opened.
            while !Task.isShuttingDownGracefully, dicomFailure.error == nil, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
            }
        } onGracefulShutdown: {}
        logger.info("gateway stopping: the associations and messages in hand are finished first")
        storage?.stop()
        dicomDone.wait()
        mllp?.stop()
        let counts = counters.snapshot
        logger.info("gateway stopped", metadata: [
            "instances_stored": "\(counts.instancesStored)", "instances_refused": "\(counts.instancesRefused)",
            "messages_accepted": "\(counts.messagesAccepted)", "messages_rejected": "\(counts.messagesRejected)",
            "messages_failed": "\(counts.messagesFailed)", "messages_not_forwarded": "\(counts.messagesNotForwarded)",
        ])
        if let error = dicomFailure.error { throw error }
    }

    /// `/healthz` (the process answers) and `/metrics` (its counters), on `gateway.http`.
    public func httpApplication(onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        let registry = counters.registry
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        let http = options.settings.http
        return Application(router: router, configuration: .init(address: .hostname(http.host, port: http.port), serverName: "radstream-gateway"),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) }, logger: logger)
    }

    /// Whether `port` can be bound on every interface now (as DCMTK will bind it).
    private static func canBind(port: Int) -> Bool {
        guard let socket = try? IPv4Socket(), let address = IPv4Socket.address("0.0.0.0", port: port) else { return false }
        defer { socket.close() }
        socket.reuseAddress()
        return socket.bind(address)
    }

    /// Whether a TCP connection to `port` on loopback is accepted (closed at once: the SCP sees a
    /// peer that left before associating, and goes on).
    private static func accepts(port: Int) -> Bool {
        guard let socket = try? IPv4Socket(), let address = IPv4Socket.address("127.0.0.1", port: port) else { return false }
        defer { socket.close() }
        return socket.connect(address)
    }

    /// Files a killed gateway left half-received: never acknowledged, so never anyone's.
    private static func removeLeftovers(in spool: URL, logger: Logger) {
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: spool.path))?.filter { $0.hasPrefix(".receiving-") } ?? []
        for name in leftovers { try? FileManager.default.removeItem(at: spool.appending(path: name)) }
        if !leftovers.isEmpty { logger.notice("removed \(leftovers.count) half-received instance files of an earlier run") }
    }
}

private final class DicomFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    var error: (any Error)? { lock.withLock { stored } }
    func set(_ error: any Error) { lock.withLock { stored = error } }
}
