/// A Float32 array with a shape, that remembers how it was computed when a gradient is wanted.
///
/// Row-major and contiguous. A tensor made from others that require gradients records its
/// `operation`; `backward()` walks those records in reverse. Tensors that require no gradient
/// record nothing, so inference builds no graph.
public final class Tensor {
    public let shape: [Int]
    public var data: [Float]
    /// Filled by `backward()`, with the shape of `data`.
    public var grad: [Float]?
    public let requiresGrad: Bool
    let operation: Operation?

    public init(shape: [Int], data: [Float], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(data.count == shape.reduce(1, *), "\(data.count) values do not fill the shape \(shape)")
        self.shape = shape
        self.data = data
        self.requiresGrad = requiresGrad
        self.operation = nil
    }

    /// The result of `operation`, recording it only when some input wants a gradient.
    init(shape: [Int], data: [Float], operation: Operation) {
        self.shape = shape
        self.data = data
        let tracked = operation.inputs.contains { $0.requiresGrad }
        self.requiresGrad = tracked
        self.operation = tracked ? operation : nil
    }

    public convenience init(scalar: Float) {
        self.init(shape: [], data: [scalar])
    }

    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    /// An array whose every element the caller writes before reading: no zero-filling pass.
    public static func uninitialized(_ count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// The value of a one-element tensor.
    public var item: Float {
        precondition(data.count == 1, "item of a tensor of \(data.count) values")
        return data[0]
    }

    /// The same values, cut off from the graph.
    public func detached() -> Tensor { Tensor(shape: shape, data: data) }
}
