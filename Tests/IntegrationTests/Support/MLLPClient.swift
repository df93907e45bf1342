import Foundation

/// What a RIS's interface engine does: one TCP connection, a message framed by MLLP, then its
/// acknowledgement read back before the next is sent. Written here, apart from the gateway's
/// own framing, so that the two can disagree.
final class MLLPClient {
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw TestFailure("cannot connect to the MLLP port \(port): \(String(cString: strerror(errno)))")
        }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    /// Sends `message` (its segments as they are) and returns the acknowledgement's segments, split into fields.
    func send(_ message: String) throws -> [[String]] {
        let frame = [UInt8(0x0B)] + Array(message.utf8) + [0x1C, 0x0D]
        guard frame.withUnsafeBytes({ Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == frame.count else {
            throw TestFailure("cannot send")
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !(reply.count >= 2 && reply.suffix(2) == [0x1C, 0x0D]) {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw TestFailure("the connection ended before an acknowledgement (\(reply.count) bytes)") }
            reply += buffer[0..<count]
        }
        guard reply.first == 0x0B else { throw TestFailure("an acknowledgement that is not MLLP-framed") }
        let text = String(decoding: reply.dropFirst().dropLast(2), as: UTF8.self)
        return text.split(separator: "\r").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
    }
}

/// The acknowledgement code (MSA-1) of a reply.
func acknowledgementCode(_ segments: [[String]]) -> String? {
    segments.first { $0.first == "MSA" }.flatMap { $0.count > 1 ? $0[1] : nil }
}
