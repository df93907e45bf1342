import ArgumentParser
import Dashboard
import Foundation
import Logging
import ServiceLifecycle

struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve the web dashboard: the stream, its studies, models and dead letters, from PostgreSQL.",
        discussion: """
            Pages: the overview (events and dead letters per hour, the pneumonia model's positive rate per \
            version, the served versions), the studies (filtered by disagreement, finding, date and model \
            version), each study (its films with their Grad-CAM maps and counterfactuals, the radiologist's \
            impression beside the generated ones, the 14 observations, the flags), the models (versions, \
            self-training rounds as a curve of AUC) and the dead letters. Rendered on the server, charts as \
            SVG; nothing is fetched from elsewhere.

            It shows patient data: every page asks for a login (HTTP Basic; over anything but loopback, put \
            TLS in front), checked against --credentials-file (lines user:password; never logged). It \
            listens on loopback unless --host says otherwise, and should read as the reader role that \
            `radstream migrate --create-reader-role` makes (it reads only the dashboard views).

            Example: radstream dashboard --postgres "host=127.0.0.1 dbname=radstream user=radstream_reader" \
            --credentials-file /etc/radstream/dashboard-users --port 8090
            """)

    @OptionGroup var options: ConfigurationOptions
    @OptionGroup var log: LogOptions
    @Option(help: "libpq connection string, as the reader role; default: the configuration's postgres.conninfo.") var postgres: String?
    @Option(help: "A file of user:password lines: who may log in.") var credentialsFile: String
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port (0: any free one, printed).") var port = 8090

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
    }

    func run() async throws {
        let configuration = try options.load()
        let credentials = try DashboardServer.Credentials(file: URL(filePath: credentialsFile))
        let logger = try log.logger(label: "radstream-dashboard", defaultLevel: .notice)
        let host = self.host
        let application = DashboardServer.application(
            conninfo: postgres ?? configuration.postgres.conninfo, credentials: credentials, host: host, port: port, logger: logger,
            onRunning: { port in
                // Written unbuffered: a parent process reads this line through a pipe.
                FileHandle.standardOutput.write(Data("dashboard: http://\(host):\(port)/\n".utf8))
            })
        try await ServiceGroup(configuration: .init(services: [application], gracefulShutdownSignals: [.sigterm, .sigint],
                                                    logger: logger)).run()
    }
}
