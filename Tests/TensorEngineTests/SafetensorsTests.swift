import Foundation
import Testing
@testable import TensorEngine

@Suite("safetensors checkpoints")
struct SafetensorsTests {
    static let fixtures = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "Fixtures")

    @Test func roundTrip() throws {
        let file = Safetensors(tensors: ["a": Tensor(shape: [2, 3], data: [1, -2, 3.5, 0, .pi, -1e-8]),
                                         "b.c": Tensor(shape: [], data: [42])],
                               metadata: ["config": "{\"channels\":[16,32,64]}"])
        let bytes = try file.serialized()
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect((8 + headerLength) % 8 == 0, "data starts aligned")
        // Left for scripts/make_safetensors_fixture.py FILE, which reads it with Python's safetensors.
        try Data(bytes).write(to: FileManager.default.temporaryDirectory.appending(path: "radstream-roundtrip.safetensors"))
        let back = try Safetensors.read(bytes)
        #expect(back.metadata == file.metadata)
        #expect(back.tensors["a"]?.shape == [2, 3] && back.tensors["a"]?.data == file.tensors["a"]?.data)
        #expect(back.tensors["b.c"]?.shape == [] && back.tensors["b.c"]?.data == [42])
    }

    /// A file written by Python's `safetensors` (scripts/make_safetensors_fixture.py).
    @Test func readsWhatPythonWrote() throws {
        let file = try Safetensors.read(contentsOf: Self.fixtures.appending(path: "python.safetensors"))
        #expect(file.metadata == ["architecture": "test", "channels": "16,32,64"])
        let weight = try #require(file.tensors["conv.weight"])
        #expect(weight.shape == [2, 3, 2, 2])
        #expect(zip(weight.data, (0..<24).map { Float($0) / 10 }).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(file.tensors["fc.bias"]?.data == [-1.5, 0.25])
        #expect(file.tensors["half"]?.data == [1, -2.5, 65504])
    }

    @Test func corruptFilesAreErrors() throws {
        let good = try Safetensors(tensors: ["x": Tensor(shape: [4], data: [1, 2, 3, 4])]).serialized()
        #expect(throws: Safetensors.FormatError.self) { try Safetensors.read(Array(good.prefix(good.count - 2))) }
        #expect(throws: Safetensors.FormatError.self) { try Safetensors.read([255, 255, 255, 255, 0, 0, 0, 0, 1]) }
        #expect(throws: Safetensors.FormatError.self) { try Safetensors.read(Array(good.prefix(6))) }
        var garbled = good
        garbled[9] = UInt8(ascii: "}")
        #expect(throws: Safetensors.FormatError.self) { try Safetensors.read(garbled) }
    }
}
