/// How wide-range and colour sources become the 8-bit grey the models read.
enum Normalisation {
    /// ITU-R BT.601 luma for interleaved RGB; grey passes through.
    static func luma<T: BinaryInteger>(_ samples: UnsafeBufferPointer<T>, channels: Int) -> [UInt32] {
        if channels == 1 { return samples.map { UInt32($0) } }
        let count = samples.count / channels
        var out = [UInt32](repeating: 0, count: count)
        for i in 0..<count {
            let r = UInt32(samples[i * channels]), g = UInt32(samples[i * channels + 1]), b = UInt32(samples[i * channels + 2])
            out[i] = (299 * r + 587 * g + 114 * b + 500) / 1000
        }
        return out
    }

    /// 16-bit to 8-bit by a window from the 0.5th to the 99.5th percentile: a 16-bit PNG from a
    /// detector rarely uses its full range, and a few hot or dead pixels must not set the contrast.
    static func windowed16(_ values: [UInt32]) -> [UInt8] {
        var histogram = [Int](repeating: 0, count: 65_536)
        for v in values { histogram[Int(min(v, 65_535))] += 1 }
        let low = percentile(histogram, total: values.count, fraction: 0.005)
        let high = max(low + 1, percentile(histogram, total: values.count, fraction: 0.995))
        let scale = 255.0 / Double(high - low)
        return values.map { v in
            let clipped = min(max(Int(v), low), high)
            return UInt8((Double(clipped - low) * scale).rounded())
        }
    }

    private static func percentile(_ histogram: [Int], total: Int, fraction: Double) -> Int {
        let target = Int(Double(total) * fraction)
        var seen = 0
        for (value, count) in histogram.enumerated() {
            seen += count
            if seen > target { return value }
        }
        return histogram.count - 1
    }
}
