import CDicomNetwork
import Foundation

/// Sends DICOM files to an AE by C-STORE, on one association: how RadStream's SRs reach the
/// hospital's PACS.
public struct StorageSCU: Sendable {
    public struct Destination: Codable, Sendable, Equatable {
        /// The destination's AE title; empty: no destination.
        public var aeTitle: String
        public var host: String
        public var port: Int
        /// RadStream's AE title as the destination sees it.
        public var callingAETitle: String
        public var timeoutSeconds: Int

        public init(aeTitle: String, host: String, port: Int, callingAETitle: String, timeoutSeconds: Int) {
            (self.aeTitle, self.host, self.port, self.callingAETitle, self.timeoutSeconds) = (aeTitle, host, port, callingAETitle, timeoutSeconds)
        }

        public var isConfigured: Bool { !aeTitle.isEmpty }
    }

    public let destination: Destination

    public init(destination: Destination) { self.destination = destination }

    /// Each file's DIMSE status (0: stored), or throws when the association could not be made or broke.
    public func store(_ files: [URL], sopClassUID: String) throws(GatewayError) -> [UInt16] {
        guard !files.isEmpty else { return [] }
        var statuses = [UInt16](repeating: 0xFFFF, count: files.count)
        var error = [CChar](repeating: 0, count: 512)
        let paths = files.map { strdup($0.path) }
        defer { paths.forEach { free($0) } }
        let result: Int32 = destination.callingAETitle.withCString { calling in
            destination.aeTitle.withCString { called in
                destination.host.withCString { host in
                    var options = rs_scu_options(calling_ae_title: calling, called_ae_title: called, host: host,
                                                 port: UInt16(clamping: destination.port), timeout_seconds: UInt32(max(1, destination.timeoutSeconds)))
                    return paths.map { UnsafePointer($0) }.withUnsafeBufferPointer { pointers in
                        rs_scu_store(&options, sopClassUID, pointers.baseAddress, pointers.count, &statuses, &error, error.count)
                    }
                }
            }
        }
        guard result == 0 else { throw GatewayError(String(nulTerminated: error)) }
        return statuses
    }
}
