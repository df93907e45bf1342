import ArgumentParser
import Foundation
import Gateway
import Pipeline
import ServiceLifecycle

struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Take images by DICOM C-STORE and reports by HL7 v2 over MLLP, and publish them as RadStream's events.",
        discussion: """
            DICOM: a Storage SCP (C-ECHO, C-STORE) for CR, DX and Secondary Capture images in the \
            transfer syntaxes RadStream decodes (JPEG baseline, extended and lossless, JPEG-LS, RLE, \
            uncompressed little endian). Each instance is checked (identifiers, pixel data that \
            decodes), written to <gateway.imageRoot>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm \
            and published as an image event by file:// URI, keyed by the study. The sender hears \
            success only after Kafka has acknowledged the event; otherwise a failure status with the \
            reason (A700: Kafka or the disk, try again; A900: no identifiers or pixel data; C000: \
            pixel data that does not decode), and nothing of it is kept.

            HL7: ORU^R01 radiology results become report events: the text of the OBX segments (TX, \
            FT, ST), the study from ZDS-1 or an OBX 113014^DICOM Study^DCM (the StudyInstanceUID \
            that the images carry). ACK AA only after Kafka has the event; AE when Kafka does not \
            take it (send again); AR with the reason for what cannot be taken, which is also kept on \
            the report topic's dead-letter topic. Preliminary results (OBR-25 not F or C) are \
            acknowledged and not forwarded.

            Configuration: the `gateway` section of the configuration file, and the kafka and \
            images sections the daemon reads (docs/gateway.md). SIGTERM or SIGINT: stop accepting, \
            answer what is in hand, exit.

            Example: radstream gateway --config /etc/radstream/radstream.json
            """)

    @OptionGroup var options: ConfigurationOptions
    @OptionGroup var log: LogOptions
    @Option(help: "DICOM port (overrides gateway.dicom.port).") var dicomPort: Int?
    @Option(help: "HL7 MLLP port (overrides gateway.hl7.port; 0: any free one, printed).") var hl7Port: Int?
    @Flag(help: "Do not listen for DICOM.") var noDicom = false
    @Flag(help: "Do not listen for HL7.") var noHl7 = false

    func run() async throws {
        let logger = try log.logger(label: "radstream-gateway", defaultLevel: .info)
        var configuration: RadStreamConfiguration
        do { configuration = try options.load() } catch let error as ConfigurationError {
            logger.critical("configuration: \(error)")
            throw ExitCode(ServeCommand.configurationExitCode)
        }
        if let dicomPort { configuration.gateway.dicom.port = dicomPort }
        if let hl7Port { configuration.gateway.hl7.port = hl7Port }
        if noDicom { configuration.gateway.dicom.enabled = false }
        if noHl7 { configuration.gateway.hl7.enabled = false }
        let gateway: Gateway
        let http = configuration.gateway.http
        do {
            gateway = try Gateway(options: configuration.gatewayOptions, logger: logger) { dicom, hl7 in
                // Written unbuffered: a parent process reads this line through a pipe.
                let ports = [dicom.map { "dicom \($0)" }, hl7.map { "hl7 \($0)" }].compactMap { $0 }.joined(separator: ", ")
                FileHandle.standardOutput.write(Data("gateway: listening (\(ports))\n".utf8))
            }
        } catch let error as GatewayError {
            logger.critical("\(error)")
            throw ExitCode(ServeCommand.configurationExitCode)
        }
        let probes = gateway.httpApplication { port in
            FileHandle.standardOutput.write(Data("gateway: HTTP on \(http.host):\(port) (/healthz /metrics)\n".utf8))
        }
        try await ServiceGroup(configuration: .init(services: [
            .init(service: gateway, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: probes),
        ], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
    }
}
