import CDicomNetwork
import Foundation

/// DCMTK's Storage SCP: C-ECHO and C-STORE on a pool of association threads. Every received
/// instance goes to `handler`, on its association's thread, which answers its DIMSE status.
final class StorageSCP: @unchecked Sendable {
    typealias Handler = @Sendable (_ path: String, _ instance: ReceivedInstance) -> DimseStatus

    /// The storage SOP classes of chest radiographs, and the transfer syntaxes RadStream's
    /// decoder reads, compressed first so that a sender's JPEG is kept as it was sent.
    static let sopClasses = [
        "1.2.840.10008.5.1.4.1.1.1",        // Computed Radiography Image Storage
        "1.2.840.10008.5.1.4.1.1.1.1",      // Digital X-Ray Image Storage – For Presentation
        "1.2.840.10008.5.1.4.1.1.1.1.1",    // Digital X-Ray Image Storage – For Processing
        "1.2.840.10008.5.1.4.1.1.7",        // Secondary Capture Image Storage
    ]
    static let transferSyntaxes = [
        "1.2.840.10008.1.2.4.50",   // JPEG Baseline (Process 1)
        "1.2.840.10008.1.2.4.51",   // JPEG Extended (Process 2 & 4)
        "1.2.840.10008.1.2.4.57",   // JPEG Lossless (Process 14)
        "1.2.840.10008.1.2.4.70",   // JPEG Lossless, first-order prediction
        "1.2.840.10008.1.2.4.80",   // JPEG-LS Lossless
        "1.2.840.10008.1.2.4.81",   // JPEG-LS Near-Lossless
        "1.2.840.10008.1.2.5",      // RLE Lossless
        "1.2.840.10008.1.2.1",      // Explicit VR Little Endian
        "1.2.840.10008.1.2",        // Implicit VR Little Endian
    ]

    private let scp: OpaquePointer
    private let box: Unmanaged<HandlerBox>

    init(settings: GatewaySettings.DICOM, spoolDirectory: String, handler: @escaping Handler) throws(GatewayError) {
        let box = Unmanaged.passRetained(HandlerBox(handler))
        var error = [CChar](repeating: 0, count: 512)
        let created: OpaquePointer? = Self.withCStrings(settings.acceptedCallingAETitles) { callers in
            Self.withCStrings(Self.sopClasses) { classes in
                Self.withCStrings(Self.transferSyntaxes) { syntaxes in
                    settings.aeTitle.withCString { aeTitle in
                        spoolDirectory.withCString { spool in
                            var options = rs_scp_options(
                                ae_title: aeTitle, port: UInt16(settings.port),
                                calling_ae_titles: callers.baseAddress, calling_ae_title_count: callers.count,
                                sop_classes: classes.baseAddress, sop_class_count: classes.count,
                                transfer_syntaxes: syntaxes.baseAddress, transfer_syntax_count: syntaxes.count,
                                spool_directory: spool, max_associations: UInt32(settings.maxAssociations),
                                timeout_seconds: UInt32(settings.timeoutSeconds))
                            return rs_scp_create(&options, storeTrampoline, box.toOpaque(), &error, error.count)
                        }
                    }
                }
            }
        }
        guard let created else {
            box.release()
            throw GatewayError("DICOM listener: \(String(nulTerminated: error))")
        }
        scp = created
        self.box = box
    }

    deinit {
        rs_scp_destroy(scp)
        box.release()
    }

    /// Serves associations until `stop`; throws when the port cannot be opened.
    func listen() throws(GatewayError) {
        var error = [CChar](repeating: 0, count: 512)
        guard rs_scp_listen(scp, &error, error.count) == 0 else {
            throw GatewayError("DICOM listener: \(String(nulTerminated: error))")
        }
    }

    /// Stops accepting associations and returns once those in hand have ended and `listen` has returned.
    func stop() {
        rs_scp_stop(scp)
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer(body)
    }
}

private final class HandlerBox: @unchecked Sendable {
    let handler: StorageSCP.Handler
    init(_ handler: @escaping StorageSCP.Handler) { self.handler = handler }
}

private func storeTrampoline(context: UnsafeMutableRawPointer?, path: UnsafePointer<CChar>?,
                             instance: UnsafePointer<rs_dicom_instance>?, comment: UnsafeMutablePointer<CChar>?,
                             capacity: Int) -> UInt16 {
    guard let context, let path, let instance else { return DimseStatus.cannotUnderstand("no instance").code }
    let handler = Unmanaged<HandlerBox>.fromOpaque(context).takeUnretainedValue().handler
    let status = handler(String(cString: path), ReceivedInstance(instance.pointee))
    if let comment, capacity > 0, let reason = status.reason {
        let bytes = Array(reason.utf8.prefix(capacity - 1)) + [0]
        bytes.withUnsafeBufferPointer { source in
            source.withMemoryRebound(to: CChar.self) { comment.update(from: $0.baseAddress!, count: $0.count) }
        }
    }
    return status.code
}
