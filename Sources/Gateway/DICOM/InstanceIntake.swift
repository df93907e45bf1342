import Events
import Foundation
import Imaging
import Logging

/// What happens to a received instance before its sender hears "success": it is checked, made
/// durable under the image root, and its image event acknowledged by Kafka. Any step failing
/// leaves nothing behind that this request created, and the sender hears why.
struct InstanceIntake: Sendable {
    let imageRoot: URL
    let decoder: ImageDecoder
    let maxFileBytes: Int
    let publisher: GatewayPublisher
    let counters: GatewayCounters
    let logger: Logger

    func accept(spooled path: String, instance: ReceivedInstance) -> DimseStatus {
        let status = handle(spooled: path, instance: instance)
        counters.count(instance: status)
        switch status {
        case .success:
            logger.debug("instance stored", metadata: ["study": "\(instance.studyInstanceUID)", "instance": "\(instance.sopInstanceUID)"])
        default:
            logger.warning("instance refused: \(status.reason ?? "")",
                           metadata: ["instance": "\(instance.sopInstanceUID.prefix(64))", "calling_ae": "\(instance.callingAETitle)",
                                      "status": "\(String(status.code, radix: 16))"])
        }
        return status
    }

    private func handle(spooled path: String, instance: ReceivedInstance) -> DimseStatus {
        let spooled = URL(filePath: path)
        var keepSpool = false
        defer { if !keepSpool { try? FileManager.default.removeItem(at: spooled) } }

        if let problem = instance.problem() { return problem }
        let bytes: [UInt8]
        do {
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            guard size <= maxFileBytes else { return .cannotUnderstand("\(size) bytes exceeds the bound of \(maxFileBytes)") }
            bytes = try [UInt8](Data(contentsOf: spooled))
        } catch {
            return .outOfResources("cannot read the received file: \(error.localizedDescription)")
        }
        // What the daemon cannot decode is refused now, while the sender can still be told.
        do { _ = try decoder.decode(bytes) } catch {
            return .cannotUnderstand("pixel data: \(error.message)")
        }

        let folder = imageRoot.appending(path: instance.studyInstanceUID).appending(path: instance.seriesInstanceUID)
        let file = folder.appending(path: instance.sopInstanceUID + ".dcm")
        let created: Bool
        do {
            created = try Self.place(spooled, at: file, folder: folder)
            keepSpool = created  // renamed: nothing is left at the spool path to remove
        } catch {
            return .outOfResources("cannot write the instance: \(error)")
        }

        let event = ImageEvent(eventID: "dicom:" + instance.sopInstanceUID, studyID: instance.studyInstanceUID,
                               imageID: instance.sopInstanceUID, uri: file.absoluteString,
                               producedAt: Date().formatted(.iso8601), dicom: instance.identifiers)
        do {
            try publisher.publish(.image(event))
        } catch {
            // Not on Kafka: not accepted. An instance already there from an earlier send stays.
            if created { try? FileManager.default.removeItem(at: file) }
            return .outOfResources("Kafka did not acknowledge the event: \(error)")
        }
        return .success
    }

    /// Moves the spooled file to its place, durably (the file, then the folder's entry, synced
    /// before the event names it). False when an instance with that SOP Instance UID is there
    /// already: a resend, kept as it was (the event is published again; the daemon counts the
    /// second as a duplicate by its event id).
    private static func place(_ spooled: URL, at file: URL, folder: URL) throws -> Bool {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: file.path) { return false }
        try sync(spooled.path)
        guard rename(spooled.path, file.path) == 0 else { throw POSIXFailure(operation: "rename", path: file.path) }
        try sync(folder.path)
        return true
    }

    private static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw POSIXFailure(operation: "open", path: path) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw POSIXFailure(operation: "fsync", path: path) }
    }
}

struct POSIXFailure: Error, CustomStringConvertible {
    let operation: String
    let path: String
    let code = errno
    var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}
