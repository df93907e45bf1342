import Foundation
import Testing
@testable import Training

@Suite("Classification metrics")
struct ClassificationMetricsTests {
    @Test func aucCountsPairsAndHalvesTies() {
        #expect(ClassificationMetrics.auc(scores: [0.1, 0.4, 0.35, 0.8], positives: [false, false, true, true]) == 0.75)
        #expect(ClassificationMetrics.auc(scores: [0.1, 0.2, 0.3], positives: [false, true, true]) == 1)
        #expect(ClassificationMetrics.auc(scores: [0.5, 0.5], positives: [false, true]) == 0.5, "a tie counts half")
        #expect(ClassificationMetrics.auc(scores: [0.5, 0.7], positives: [true, true]).isNaN, "no negatives: undefined")
    }

    @Test func theThresholdSeparatesAndSitsBetweenScores() {
        let threshold = ClassificationMetrics.bestThreshold(scores: [0.1, 0.2, 0.6, 0.7, 0.9], positives: [false, false, true, true, true])
        #expect(threshold > 0.2 && threshold < 0.6)
        #expect(abs(threshold - 0.4) < 1e-6, "the midpoint of the widest gap")
        // One positive below a negative: the best rule still misclassifies one, whatever it is.
        let noisy = ClassificationMetrics.bestThreshold(scores: [0.1, 0.3, 0.5, 0.8], positives: [false, true, false, true])
        let scores: [Float] = [0.1, 0.3, 0.5, 0.8], truth = [false, true, false, true]
        #expect(zip(scores, truth).filter { ($0.0 >= noisy) == $0.1 }.count == 3)
    }

    /// Three positives for every negative, overlapping in the middle: the most accurate threshold
    /// gives up the negatives there to keep the more numerous positives, and so leans on the
    /// prevalence; the balanced one splits the errors between the classes.
    @Test func theBalancedThresholdDoesNotLeanOnPrevalence() {
        let negatives: [Float] = [0.1, 0.2, 0.3, 0.45, 0.5, 0.55]
        let positives: [Float] = [0.4, 0.42, 0.44, 0.47] + (0..<14).map { 0.6 + Float($0) * 0.02 }
        let scores = negatives + positives, truth = negatives.map { _ in false } + positives.map { _ in true }
        let accurate = ClassificationMetrics.bestThreshold(scores: scores, positives: truth)
        let balanced = ClassificationMetrics.bestThreshold(scores: scores, positives: truth, balanced: true)
        #expect(accurate < 0.4, "calls every overlapping negative positive: \(accurate)")
        #expect(balanced > 0.55 && balanced < 0.6, "at the gap above the last negative: \(balanced)")
        let decisions = scores.map { $0 >= balanced }
        #expect(abs(ClassificationMetrics.balancedAccuracy(decisions: decisions, positives: truth) - (1 + 14.0 / 18) / 2) < 1e-9)
        #expect(ClassificationMetrics.balancedAccuracy(decisions: decisions, positives: truth)
            > ClassificationMetrics.balancedAccuracy(decisions: scores.map { $0 >= accurate }, positives: truth))
    }

    /// Logits drawn from a model whose true temperature is 2: the fit finds it.
    @Test func temperatureScalingRecoversTheTemperature() {
        var generator = SystemRandomNumberGenerator()
        var logits: [[Float]] = [], labels: [Int] = []
        for _ in 0..<4000 {
            let z = Float.random(in: -6...6, using: &generator)
            let p = 1 / (1 + exp(-z / 2))  // the truth: softmax([0, z] / 2)
            logits.append([0, z])
            labels.append(Float.random(in: 0..<1, using: &generator) < p ? 1 : 0)
        }
        let temperature = ClassificationMetrics.fitTemperature(logits: logits, labels: labels)
        #expect(abs(temperature - 2) < 0.25, "fitted \(temperature)")
        let before = ClassificationMetrics.negativeLogLikelihood(logits: logits, labels: labels, temperature: 1)
        let after = ClassificationMetrics.negativeLogLikelihood(logits: logits, labels: labels, temperature: temperature)
        #expect(after < before)
    }

    @Test func theBootstrapIntervalHoldsTheEstimate() {
        let correct = (0..<200).map { $0 % 10 != 0 }  // 90% right
        let (low, high) = ClassificationMetrics.bootstrapInterval(count: 200) { sample in
            Double(sample.filter { correct[$0] }.count) / Double(sample.count)
        }
        #expect(low < 0.9 && 0.9 < high && high - low < 0.12, "[\(low), \(high)]")
    }

    @Test func calibrationErrorIsZeroForAPerfectlyCalibratedBin() {
        // Confidence 0.75 in every row, right in three rows of four.
        let probabilities: [[Float]] = Array(repeating: [0.25, 0.75], count: 4)
        #expect(abs(ClassificationMetrics.expectedCalibrationError(probabilities: probabilities, labels: [1, 1, 1, 0])) < 1e-9)
        #expect(abs(ClassificationMetrics.expectedCalibrationError(probabilities: probabilities, labels: [1, 1, 1, 1]) - 0.25) < 1e-9)
    }
}
