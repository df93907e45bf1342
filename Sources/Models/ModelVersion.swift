import Foundation
import TensorEngine

/// A trained model's version: the date and the first 8 hex digits of an FNV-1a hash of its
/// weights, so that two trainings that differ in any weight get different versions.
public enum ModelVersion {
    public static func of(_ tensors: [String: Tensor]) throws -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in try Safetensors(tensors: tensors).serialized() {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let date = Date().formatted(.iso8601.year().month().day().dateSeparator(.omitted))
        return "\(date)-\(String(String(hash, radix: 16).suffix(8)))"
    }
}
