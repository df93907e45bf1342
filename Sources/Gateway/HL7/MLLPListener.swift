import Foundation
import Logging

/// A TCP listener for HL7 over MLLP: each connection on a thread of its own, its messages
/// answered one by one in order (an interface engine sends the next after the last's ACK).
final class MLLPListener: @unchecked Sendable {
    typealias Handler = @Sendable (_ message: [UInt8], _ peer: String) -> String

    private let settings: GatewaySettings.HL7
    private let handler: Handler
    private let logger: Logger
    private let lock = NSLock()
    private var listening: Int32 = -1
    private var stopping = false
    private var open = 0
    private let connections = DispatchGroup()
    private let accepting = DispatchSemaphore(value: 0)

    init(settings: GatewaySettings.HL7, logger: Logger, handler: @escaping Handler) {
        self.settings = settings
        self.logger = logger
        self.handler = handler
    }

    /// Binds and starts accepting; returns the port (the chosen one when 0 was asked).
    func start() throws(GatewayError) -> Int {
        let socket: IPv4Socket
        do { socket = try IPv4Socket() } catch { throw GatewayError("HL7 listener: \(error)") }
        socket.reuseAddress()
        guard let address = IPv4Socket.address(settings.host, port: settings.port) else {
            socket.close()
            throw GatewayError("HL7 listener: gateway.hl7.host \(settings.host) is not an IPv4 address")
        }
        guard socket.bind(address), listen(socket.descriptor, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            socket.close()
            throw GatewayError("HL7 listener: cannot listen on \(settings.host):\(settings.port): \(reason)")
        }
        let descriptor = socket.descriptor
        lock.withLock { listening = descriptor }
        let thread = Thread { [self] in acceptLoop(descriptor) }
        thread.name = "hl7-accept"
        thread.start()
        return socket.localPort
    }

    /// Stops accepting, lets each connection finish the message in hand, and returns once all are closed.
    func stop() {
        let descriptor: Int32 = lock.withLock {
            stopping = true
            defer { listening = -1 }
            return listening
        }
        guard descriptor >= 0 else { return }
        accepting.wait()
        close(descriptor)
        connections.wait()
    }

    private var isStopping: Bool { lock.withLock { stopping } }

    private func acceptLoop(_ descriptor: Int32) {
        defer { accepting.signal() }
        while !isStopping {
            var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 200) > 0 else { continue }
            var peerAddress = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let connection = withUnsafeMutablePointer(to: &peerAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(descriptor, $0, &length) }
            }
            guard connection >= 0 else { continue }
            let peer = Self.describe(peerAddress)
            let admitted = lock.withLock {
                guard open < settings.maxConnections else { return false }
                open += 1
                return true
            }
            guard admitted else {
                // No thread for it: closed at once, so that the sender sees why and tries later.
                close(connection)
                logger.warning("HL7 connection refused: \(settings.maxConnections) are open (gateway.hl7.maxConnections)",
                               metadata: ["peer": "\(peer)"])
                continue
            }
            connections.enter()
            let thread = Thread { [self] in
                defer {
                    lock.withLock { open -= 1 }
                    connections.leave()
                }
                serve(connection, peer: peer)
            }
            thread.name = "hl7-connection"
            thread.start()
        }
    }

    private func serve(_ connection: Int32, peer: String) {
        defer { close(connection) }
        // Reads wake every second, so that a stop or the idle bound is noticed.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var framer = MLLPFramer(maxMessageBytes: settings.maxMessageBytes)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var lastActivity = ContinuousClock.now
        logger.debug("HL7 connection", metadata: ["peer": "\(peer)"])
        while !isStopping {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count == 0 { return }
            if count < 0 {
                guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return }
                if ContinuousClock.now - lastActivity > .seconds(settings.idleSeconds) {
                    logger.info("HL7 connection idle for \(settings.idleSeconds) s: closed", metadata: ["peer": "\(peer)"])
                    return
                }
                continue
            }
            lastActivity = .now
            do {
                for message in try framer.feed(buffer[0..<count]) {
                    guard send(all: MLLPFramer.frame(handler(message, peer)), to: connection) else { return }
                }
            } catch {
                // Out of step with the sender: refuse, and close so that it starts afresh.
                let refusal = HL7Acknowledgement.refused(HL7Error(.malformed, "message larger than \(settings.maxMessageBytes) bytes"))
                _ = send(all: MLLPFramer.frame(refusal.encoded(answering: nil, controlID: "RSOVERSIZE")), to: connection)
                logger.warning("HL7 message larger than \(settings.maxMessageBytes) bytes: connection closed", metadata: ["peer": "\(peer)"])
                return
            }
        }
    }

    private func send(all bytes: [UInt8], to connection: Int32) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return false }
            sent += count
        }
        return true
    }

    private static func describe(_ address: sockaddr_in) -> String {
        var copy = address.sin_addr
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &copy, &text, socklen_t(text.count))
        return "\(String(nulTerminated: text)):\(UInt16(bigEndian: address.sin_port))"
    }
}
