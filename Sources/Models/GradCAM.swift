import TensorEngine

/// Grad-CAM (Selvaraju et al., 2017) for networks that end in global average pooling and a linear
/// layer, such as `ResidualCNN`.
///
/// Grad-CAM weighs each feature map A_c of the last stage by α_c, the spatial mean of ∂score/∂A_c,
/// and keeps ReLU(Σ_c α_c A_c). When score = b + Σ_c w_c · mean_ij(A_c,ij), that gradient is w_c / hw
/// at every position, so α_c = w_c / hw exactly: Grad-CAM needs no backward pass here (it is then
/// the CAM of Zhou et al., 2016). The tests check this against the engine's autograd.
///
/// The score explained is the class's centred logit (its logit minus the mean logit), which is what
/// the softmax depends on: for a binary model, half the log-odds of the class.
public enum GradCAM {
    /// α_c × hw: the weight of each feature channel for `classIndex`'s centred logit.
    public static func weights(of network: ResidualCNN, for classIndex: Int) -> [Float] {
        let weight = network.parameters["fc.weight"]!
        let classes = weight.shape[0], channels = weight.shape[1]
        return (0..<channels).map { c in
            let mean = (0..<classes).reduce(Float(0)) { $0 + weight.data[$1 * channels + c] } / Float(classes)
            return weight.data[classIndex * channels + c] - mean
        }
    }

    /// ReLU(Σ_c weights_c A_c) for one image of a batch of feature maps, scaled to [0, 1] (all zero
    /// when nothing speaks for the class).
    public static func map(features: Tensor, image: Int, weights: [Float]) -> SaliencyMap {
        let channels = features.shape[1], height = features.shape[2], width = features.shape[3]
        precondition(weights.count == channels, "one weight per channel")
        let plane = height * width
        var values = [Float](repeating: 0, count: plane)
        for c in 0..<channels {
            let base = (image * channels + c) * plane
            for i in 0..<plane { values[i] += weights[c] * features.data[base + i] }
        }
        values = values.map { max($0, 0) }
        let peak = values.max() ?? 0
        if peak > 0 { values = values.map { $0 / peak } }
        return SaliencyMap(width: width, height: height, values: values)
    }
}

/// A coarse heat map over an image, values in [0, 1], row-major.
public struct SaliencyMap: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let values: [Float]

    public init(width: Int, height: Int, values: [Float]) {
        precondition(values.count == width * height)
        self.width = width
        self.height = height
        self.values = values
    }

    /// Bilinear resampling to another size, the map's cells taken as pixel centres (as
    /// `align_corners=False` in PyTorch), for drawing it over the image.
    public func resampled(width newWidth: Int, height newHeight: Int) -> [Float] {
        var result = [Float](repeating: 0, count: newWidth * newHeight)
        let scaleX = Float(width) / Float(newWidth), scaleY = Float(height) / Float(newHeight)
        for y in 0..<newHeight {
            let sourceY = min(max((Float(y) + 0.5) * scaleY - 0.5, 0), Float(height - 1))
            let y0 = Int(sourceY), y1 = min(y0 + 1, height - 1), fy = sourceY - Float(y0)
            for x in 0..<newWidth {
                let sourceX = min(max((Float(x) + 0.5) * scaleX - 0.5, 0), Float(width - 1))
                let x0 = Int(sourceX), x1 = min(x0 + 1, width - 1), fx = sourceX - Float(x0)
                let top = values[y0 * width + x0] * (1 - fx) + values[y0 * width + x1] * fx
                let bottom = values[y1 * width + x0] * (1 - fx) + values[y1 * width + x1] * fx
                result[y * newWidth + x] = top * (1 - fy) + bottom * fy
            }
        }
        return result
    }
}
