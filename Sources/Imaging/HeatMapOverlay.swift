/// Draws a heat map over a greyscale image as an RGB picture: a saliency map made on the image's
/// centred square (what the models read) is laid over that square; the rest of the image is
/// shown as it is, so that a reader sees what the model did not.
public enum HeatMapOverlay {
    /// RGB bytes of `image` resized to `size`, the heat (values in [0, 1], row-major,
    /// `heatSide`×`heatSide`, resampled by the caller to any side) laid over its centred square.
    /// Colours follow the "jet" scale; a cell's opacity grows with its heat, so cold cells leave the
    /// film visible.
    public static func render(_ image: GreyImage, heat: (_ side: Int) -> [Float], maxSide: Int = 1024,
                              minSide: Int = 224) -> (pixels: [UInt8], width: Int, height: Int) {
        let scale = min(Double(maxSide) / Double(max(image.width, image.height)),
                        max(1, Double(minSide) / Double(min(image.width, image.height))))
        let width = max(1, Int((Double(image.width) * scale).rounded())), height = max(1, Int((Double(image.height) * scale).rounded()))
        let base = image.resized(width: width, height: height)
        let side = min(width, height), x0 = (width - side) / 2, y0 = (height - side) / 2
        let values = heat(side)
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let grey = Float(base.pixels[y * width + x])
                var colour = (grey, grey, grey)
                if x >= x0, x < x0 + side, y >= y0, y < y0 + side {
                    let value = min(max(values[(y - y0) * side + (x - x0)], 0), 1)
                    let (r, g, b) = jet(value), alpha = 0.6 * value
                    colour = ((1 - alpha) * grey + alpha * r, (1 - alpha) * grey + alpha * g, (1 - alpha) * grey + alpha * b)
                }
                let index = (y * width + x) * 3
                rgb[index] = UInt8(clamping: Int(colour.0.rounded()))
                rgb[index + 1] = UInt8(clamping: Int(colour.1.rounded()))
                rgb[index + 2] = UInt8(clamping: Int(colour.2.rounded()))
            }
        }
        return (rgb, width, height)
    }

    /// The "jet" colour scale: blue (0) through cyan, yellow, to red (1), as 0…255 floats.
    static func jet(_ value: Float) -> (Float, Float, Float) {
        func ramp(_ centre: Float) -> Float { min(max(1.5 - abs(4 * value - centre), 0), 1) * 255 }
        return (ramp(3), ramp(2), ramp(1))
    }
}
