import Foundation

/// A TCP socket on IPv4 for the few calls the gateway makes itself (the MLLP listener, checking
/// the DICOM port): the address built and the sockaddr casts made in one place.
struct IPv4Socket {
    let descriptor: Int32

    init() throws(GatewayError) {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw GatewayError("socket: \(String(cString: strerror(errno)))") }
    }

    /// `host` (dotted IPv4) and `port`; nil when `host` is not an IPv4 address.
    static func address(_ host: String, port: Int) -> sockaddr_in? {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return inet_pton(AF_INET, host, &address.sin_addr) == 1 ? address : nil
    }

    func reuseAddress() {
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
    }

    func bind(_ address: sockaddr_in) -> Bool {
        withSocketAddress(address) { Glibc.bind(descriptor, $0, $1) == 0 }
    }

    func connect(_ address: sockaddr_in) -> Bool {
        withSocketAddress(address) { Glibc.connect(descriptor, $0, $1) == 0 }
    }

    /// The port bound (the system's choice when 0 was asked).
    var localPort: Int {
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: bound.sin_port))
    }

    func close() { Glibc.close(descriptor) }

    private func withSocketAddress<R>(_ address: sockaddr_in, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var copy = address
        return withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}
