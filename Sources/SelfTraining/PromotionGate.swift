import Foundation
import Training

/// Decides whether a round's candidate replaces the current model: only if, on the validation
/// set no round trains on, its AUC is at least the current model's plus `minimumAUCGain` and its
/// calibration (expected calibration error) is no worse, within `calibrationTolerance`.
public struct PromotionGate: Codable, Sendable, Equatable {
    /// The AUC the candidate must gain (0: matching the current model is enough; negative: it may lose that much).
    public var minimumAUCGain: Double
    /// How much higher the candidate's ECE may be than the current model's. ECE over 10 bins is
    /// noisy on a few hundred images: on PneumoniaMNIST `val` (524) its bootstrap standard
    /// deviation is 0.007 for one model, so the default, 0.02, rejects only what is worse beyond
    /// about three deviations; a larger validation set can afford a smaller tolerance.
    public var calibrationTolerance: Double

    public init(minimumAUCGain: Double = 0, calibrationTolerance: Double = 0.02) {
        self.minimumAUCGain = minimumAUCGain
        self.calibrationTolerance = calibrationTolerance
    }

    public struct Decision: Sendable, Equatable {
        public let promote: Bool
        /// Why, with the figures, as the round's record and the log say it.
        public let reason: String
    }

    public func decide(current: ClassifierEvaluation, candidate: ClassifierEvaluation) -> Decision {
        let auc = "AUC \(Self.format(candidate.auc)) vs \(Self.format(current.auc))"
        let ece = "ECE \(Self.format(candidate.expectedCalibrationError)) vs \(Self.format(current.expectedCalibrationError))"
        if candidate.auc < current.auc + minimumAUCGain {
            return Decision(promote: false, reason: "\(auc): below the current model's plus a margin of \(Self.format(minimumAUCGain))")
        }
        if candidate.expectedCalibrationError > current.expectedCalibrationError + calibrationTolerance {
            return Decision(promote: false, reason: "\(auc), but \(ece): calibration worse by more than \(Self.format(calibrationTolerance))")
        }
        return Decision(promote: true, reason: "\(auc), \(ece)")
    }

    static func format(_ value: Double) -> String { String(format: "%.4f", value) }
}
