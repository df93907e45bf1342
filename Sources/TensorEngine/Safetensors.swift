import Foundation

/// Checkpoints in the safetensors format (huggingface/safetensors): an 8-byte little-endian
/// header length, a JSON header naming each tensor's dtype, shape and byte range, and the raw
/// little-endian data. A model's configuration travels in the header's `__metadata__`.
public struct Safetensors {
    public var tensors: [String: Tensor]
    public var metadata: [String: String]

    public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public struct FormatError: Error, CustomStringConvertible, Sendable {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Float32 tensors, written in name order with their offsets contiguous.
    public func serialized() throws -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let tensor = tensors[name]!
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + 4 * tensor.count]]
            offset += 4 * tensor.count
        }
        var json = Array(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        // The data should start 8-byte aligned; the format allows trailing spaces in the header.
        while (8 + json.count) % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json
        bytes.reserveCapacity(bytes.count + offset)
        for name in names {
            for value in tensors[name]!.data { bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
        }
        return bytes
    }

    public static func read(_ bytes: [UInt8]) throws -> Safetensors {
        guard bytes.count >= 8 else { throw FormatError("file of \(bytes.count) bytes: no header length") }
        let headerLength = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(bytes.count - 8), headerLength < 100_000_000 else {
            throw FormatError("header length \(headerLength) exceeds the file")
        }
        let dataStart = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])) as? [String: Any] else {
            throw FormatError("header is not a JSON object")
        }
        var result = Safetensors(tensors: [:])
        if let metadata = header["__metadata__"] {
            guard let strings = metadata as? [String: String] else { throw FormatError("__metadata__ must map strings to strings") }
            result.metadata = strings
        }
        let dataLength = bytes.count - dataStart
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw FormatError("tensor \(name): malformed entry")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard shape.allSatisfy({ $0 >= 0 }), begin >= 0, begin <= end, end <= dataLength else {
                throw FormatError("tensor \(name): bytes \(begin)..<\(end) outside the data (\(dataLength) bytes)")
            }
            let count = shape.reduce(1, *)
            let raw = bytes[(dataStart + begin)..<(dataStart + end)]
            guard let width = Self.widths[dtype] else { throw FormatError("tensor \(name): unsupported dtype \(dtype)") }
            guard raw.count == count * width else {
                throw FormatError("tensor \(name): \(raw.count) bytes for \(count) values of \(dtype)")
            }
            result.tensors[name] = Tensor(shape: shape, data: Self.floats(raw, dtype: dtype, count: count))
        }
        return result
    }

    static let widths = ["F32": 4, "F16": 2, "BF16": 2, "F64": 8]

    /// Little-endian values of `dtype` as Float32.
    private static func floats(_ raw: ArraySlice<UInt8>, dtype: String, count: Int) -> [Float] {
        let base = raw.startIndex
        func word(_ index: Int, _ width: Int) -> UInt64 {
            (0..<width).reduce(UInt64(0)) { $0 | UInt64(raw[base + index * width + $1]) << (8 * UInt64($1)) }
        }
        return (0..<count).map { i in
            switch dtype {
            case "F16": Float(Float16(bitPattern: UInt16(word(i, 2))))
            case "BF16": Float(bitPattern: UInt32(word(i, 2)) << 16)
            case "F64": Float(Double(bitPattern: word(i, 8)))
            default: Float(bitPattern: UInt32(word(i, 4)))
            }
        }
    }
}

extension Safetensors {
    public func write(to url: URL) throws {
        try Data(try serialized()).write(to: url, options: .atomic)
    }

    public static func read(contentsOf url: URL) throws -> Safetensors {
        try read(Array(try Data(contentsOf: url)))
    }
}
