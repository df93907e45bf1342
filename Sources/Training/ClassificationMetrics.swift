import Foundation
import TensorEngine

/// The figures by which a classifier is chosen and reported.
public enum ClassificationMetrics {
    /// ROC AUC of `scores` for `positives`: the probability that a random positive scores above a
    /// random negative, ties counting half (Mann–Whitney U, from average ranks). NaN when a class is missing.
    public static func auc(scores: [Float], positives: [Bool]) -> Double {
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var ranks = [Double](repeating: 0, count: scores.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let averageRank = Double(start + end) / 2 + 1
            for i in start...end { ranks[order[i]] = averageRank }
            start = end + 1
        }
        let positiveCount = positives.filter { $0 }.count, negativeCount = positives.count - positiveCount
        guard positiveCount > 0, negativeCount > 0 else { return .nan }
        let rankSum = zip(ranks, positives).reduce(0.0) { $0 + ($1.1 ? $1.0 : 0) }
        return (rankSum - Double(positiveCount * (positiveCount + 1)) / 2) / Double(positiveCount * negativeCount)
    }

    /// A percentile bootstrap interval (95% by default) of `statistic` over resamples of the indices.
    public static func bootstrapInterval(count: Int, resamples: Int = 1000, level: Double = 0.95, seed: UInt64 = 7,
                                         _ statistic: ([Int]) -> Double) -> (low: Double, high: Double) {
        var generator = SeededGenerator(seed: seed)
        var values: [Double] = []
        for _ in 0..<resamples {
            let sample = (0..<count).map { _ in Int(generator.next() % UInt64(count)) }
            let value = statistic(sample)
            if !value.isNaN { values.append(value) }
        }
        guard !values.isEmpty else { return (.nan, .nan) }
        values.sort()
        let tail = (1 - level) / 2
        let low = values[Int(tail * Double(values.count - 1))], high = values[Int((1 - tail) * Double(values.count - 1))]
        return (low, high)
    }

    /// The threshold on the positive probability that classifies the most images right (or,
    /// `balanced`, that maximises the mean of sensitivity and specificity: the accuracy the
    /// threshold would give at 50% prevalence, and so the choice that does not lean on the
    /// prevalence of the set it is chosen on); among equally good ones, the midpoint of the
    /// widest run, so that it is not on an image's score.
    public static func bestThreshold(scores: [Float], positives: [Bool], balanced: Bool = false) -> Float {
        let sorted = zip(scores, positives).sorted { $0.0 < $1.0 }
        let positiveCount = positives.filter { $0 }.count, negativeCount = positives.count - positiveCount
        // Each image's weight in the objective: 1, or 1/(its class's count) when balanced.
        let positiveWeight = balanced ? 1 / Double(max(positiveCount, 1)) : 1
        let negativeWeight = balanced ? 1 / Double(max(negativeCount, 1)) : 1
        // Threshold below sorted[i] (i = 0…n): sorted[..<i] called negative, the rest positive.
        var correct = Double(positiveCount) * positiveWeight  // everything called positive
        var best = correct, bestRange = (low: Float(0), high: sorted.first?.0 ?? 1)
        for i in sorted.indices {
            correct += sorted[i].1 ? -positiveWeight : negativeWeight
            let low = sorted[i].0, high = i + 1 < sorted.count ? sorted[i + 1].0 : 1
            guard high > low else { continue }
            // A tolerance: sums of 1/n in another order differ in the last bits.
            if correct > best + 1e-12 || (abs(correct - best) <= 1e-12 && high - low > bestRange.high - bestRange.low) {
                best = correct
                bestRange = (low, high)
            }
        }
        return (bestRange.low + bestRange.high) / 2
    }

    /// Mean of sensitivity and specificity of `decisions` (true: called positive).
    public static func balancedAccuracy(decisions: [Bool], positives: [Bool]) -> Double {
        let positiveCount = positives.filter { $0 }.count, negativeCount = positives.count - positiveCount
        guard positiveCount > 0, negativeCount > 0 else { return .nan }
        let truePositives = zip(decisions, positives).filter { $0 && $1 }.count
        let trueNegatives = zip(decisions, positives).filter { !$0 && !$1 }.count
        return (Double(truePositives) / Double(positiveCount) + Double(trueNegatives) / Double(negativeCount)) / 2
    }

    /// The temperature that minimises the negative log-likelihood of `labels` under
    /// softmax(logits / T) (Guo et al., 2017), by golden-section search on log T.
    public static func fitTemperature(logits: [[Float]], labels: [Int]) -> Float {
        func loss(_ logT: Double) -> Double { negativeLogLikelihood(logits: logits, labels: labels, temperature: Float(Foundation.exp(logT))) }
        var low = Foundation.log(0.05), high = Foundation.log(20.0)
        let ratio = (5.0.squareRoot() - 1) / 2
        var a = high - ratio * (high - low), b = low + ratio * (high - low)
        var fa = loss(a), fb = loss(b)
        for _ in 0..<60 {
            if fa < fb { high = b; b = a; fb = fa; a = high - ratio * (high - low); fa = loss(a) }
            else { low = a; a = b; fa = fb; b = low + ratio * (high - low); fb = loss(b) }
        }
        return Float(Foundation.exp((low + high) / 2))
    }

    public static func negativeLogLikelihood(logits: [[Float]], labels: [Int], temperature: Float) -> Double {
        var total = 0.0
        for (row, label) in zip(logits, labels) {
            let scaled = row.map { Double($0 / temperature) }
            let peak = scaled.max()!
            let logSum = peak + Foundation.log(scaled.reduce(0) { $0 + Foundation.exp($1 - peak) })
            total += logSum - scaled[label]
        }
        return total / Double(max(labels.count, 1))
    }

    /// Expected calibration error of the top-class confidence over `bins` equal-width bins.
    public static func expectedCalibrationError(probabilities: [[Float]], labels: [Int], bins: Int = 10) -> Double {
        var confidence = [Double](repeating: 0, count: bins), correct = [Double](repeating: 0, count: bins)
        var counts = [Int](repeating: 0, count: bins)
        for (row, label) in zip(probabilities, labels) {
            let top = row.indices.max { row[$0] < row[$1] }!
            let bin = min(Int(Double(row[top]) * Double(bins)), bins - 1)
            confidence[bin] += Double(row[top])
            correct[bin] += top == label ? 1 : 0
            counts[bin] += 1
        }
        let total = Double(max(labels.count, 1))
        return (0..<bins).reduce(0.0) { $0 + abs(confidence[$1] - correct[$1]) / total }
    }
}
