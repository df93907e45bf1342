import ChildProcesses
import Foundation

/// Debian's PostgreSQL server in a private data directory, for the demo, the tests and the
/// benchmarks. PostgreSQL refuses to run as root, so under root (as CI runs) it is run as the
/// `postgres` user that Debian's package creates.
public final class LocalPostgresServer: @unchecked Sendable {
    public let dataDirectory: URL
    public let port: Int
    public let database = "radstream"
    public let user = "radstream"
    private let binDirectory: URL
    private let durable: Bool

    /// `durable: false` turns fsync off: for tests, where a lost machine loses nothing of value.
    public init(dataDirectory: URL, port: Int? = nil, durable: Bool = true) throws {
        self.dataDirectory = dataDirectory.standardizedFileURL
        self.port = try port ?? Self.freePort()
        self.durable = durable
        binDirectory = try Self.findBinDirectory()
    }

    public var conninfo: String {
        "host=127.0.0.1 port=\(port) dbname=\(database) user=\(user) connect_timeout=5"
    }

    public var logFile: URL { dataDirectory.appending(path: "server.log") }

    /// Creates the cluster if needed, starts the server and creates the database.
    public func start() throws {
        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: dataDirectory.appending(path: "PG_VERSION").path) {
            try fileManager.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
            try handOver(dataDirectory)
            try run("initdb", ["-D", dataDirectory.path, "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync"])
        }
        var options = "-p \(port) -k \(dataDirectory.path) -c listen_addresses=127.0.0.1 -c max_connections=200"
        if !durable { options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off" }
        try run("pg_ctl", ["-D", dataDirectory.path, "-o", options, "-l", logFile.path, "-w", "-t", "60", "start"])
        let admin = try PostgresConnection("host=127.0.0.1 port=\(port) dbname=postgres user=\(user)")
        if try admin.execute("SELECT 1 FROM pg_database WHERE datname = $1", [.text(database)]).count == 0 {
            try admin.execute("CREATE DATABASE \(database)")
        }
    }

    /// Stops a server left running in this data directory (by a run that died before it could
    /// stop it), so that the directory can be removed from under no one; false when none runs.
    @discardableResult
    public func stopIfRunning() throws -> Bool {
        guard FileManager.default.fileExists(atPath: dataDirectory.appending(path: "postmaster.pid").path) else { return false }
        // `pg_ctl status` exits 3 when no server runs (a stale pid file).
        guard (try? run("pg_ctl", ["-D", dataDirectory.path, "status"])) != nil else { return false }
        try stop()
        return true
    }

    /// Fast shutdown: open transactions are rolled back, as when a server goes away.
    public func stop() throws {
        try run("pg_ctl", ["-D", dataDirectory.path, "-m", "fast", "-w", "stop"])
    }

    private var runsAsRoot: Bool { getuid() == 0 }

    @discardableResult
    private func run(_ tool: String, _ arguments: [String]) throws -> String {
        let executable = binDirectory.appending(path: tool).path
        let (path, argv) = runsAsRoot
            ? ("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
            : (executable, arguments)
        // ChildProcess writes output to a file, not a pipe: the server that `pg_ctl start` leaves
        // running would hold a pipe open and a reader would wait for it forever.
        let (status, text) = try ChildProcess.run(path, argv)
        guard status == 0 else {
            throw PostgresError(.server, "\(tool) failed (\(status)): \(text.suffix(800))")
        }
        return text
    }

    /// Under root the data directory must belong to `postgres`.
    private func handOver(_ directory: URL) throws {
        guard runsAsRoot else { return }
        guard try ChildProcess.run("/bin/chown", ["-R", "postgres:postgres", directory.path]).status == 0 else {
            throw PostgresError(.server, "cannot hand \(directory.path) to user postgres")
        }
    }

    /// The newest installed server, e.g. /usr/lib/postgresql/15/bin.
    static func findBinDirectory() throws -> URL {
        let root = URL(filePath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw PostgresError(.server, "no PostgreSQL server under /usr/lib/postgresql: run ops/setup.sh")
        }
        return root.appending(path: "\(newest)/bin")
    }

    /// A TCP port that was free a moment ago (the kernel's choice).
    public static func freePort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw PostgresError(.server, "socket() failed") }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(socketFD, pointer, length) == 0 && getsockname(socketFD, pointer, &length) == 0
            }
        }
        guard bound else { throw PostgresError(.server, "cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
