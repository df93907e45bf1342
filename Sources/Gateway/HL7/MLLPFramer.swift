/// The Minimal Lower Layer Protocol's frames: <VT> message <FS><CR>. Bytes before a start byte
/// are skipped (line noise, a keep-alive); a frame longer than the bound is an error, since the
/// connection can no longer be trusted to be in step.
struct MLLPFramer: Sendable {
    static let start: UInt8 = 0x0B
    static let end: UInt8 = 0x1C
    static let carriageReturn: UInt8 = 0x0D

    enum Failure: Error, Equatable { case tooLarge(Int) }

    let maxMessageBytes: Int
    private var buffer: [UInt8] = []
    private var inFrame = false

    init(maxMessageBytes: Int) { self.maxMessageBytes = maxMessageBytes }

    /// The messages that `bytes` complete, in order.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws(Failure) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        for byte in bytes {
            if !inFrame {
                if byte == Self.start { inFrame = true; buffer.removeAll(keepingCapacity: true) }
                continue
            }
            if byte == Self.carriageReturn, buffer.last == Self.end {
                buffer.removeLast()
                messages.append(buffer)
                buffer.removeAll(keepingCapacity: true)
                inFrame = false
                continue
            }
            if byte == Self.start, buffer.isEmpty { continue }
            buffer.append(byte)
            if buffer.count > maxMessageBytes + 1 { throw .tooLarge(maxMessageBytes) }
        }
        return messages
    }

    static func frame(_ message: String) -> [UInt8] {
        [start] + Array(message.utf8) + [end, carriageReturn]
    }
}
