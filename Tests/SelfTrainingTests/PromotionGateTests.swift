import Foundation
import Testing
@testable import SelfTraining
import Training

@Suite("The promotion gate")
struct PromotionGateTests {
    static func figures(auc: Double, ece: Double) -> ClassifierEvaluation {
        let json = #"{"images": 100, "auc": \#(auc), "accuracy": 0.9, "negativeLogLikelihood": 0.3, "expectedCalibrationError": \#(ece)}"#
        return try! JSONDecoder().decode(ClassifierEvaluation.self, from: Data(json.utf8))
    }

    @Test func aCandidateAsGoodAndAsWellCalibratedIsPromoted() {
        let decision = PromotionGate().decide(current: Self.figures(auc: 0.95, ece: 0.03), candidate: Self.figures(auc: 0.95, ece: 0.032))
        #expect(decision.promote && decision.reason.contains("AUC 0.9500 vs 0.9500"))
    }

    @Test func aLowerAUCIsRejected() {
        let decision = PromotionGate().decide(current: Self.figures(auc: 0.95, ece: 0.03), candidate: Self.figures(auc: 0.949, ece: 0.01))
        #expect(!decision.promote && decision.reason.contains("below"))
    }

    @Test func theMarginIsRequired() {
        let gate = PromotionGate(minimumAUCGain: 0.01)
        #expect(!gate.decide(current: Self.figures(auc: 0.95, ece: 0.03), candidate: Self.figures(auc: 0.955, ece: 0.03)).promote)
        #expect(gate.decide(current: Self.figures(auc: 0.95, ece: 0.03), candidate: Self.figures(auc: 0.961, ece: 0.03)).promote)
    }

    @Test func worseCalibrationIsRejectedEvenWithABetterAUC() {
        let decision = PromotionGate().decide(current: Self.figures(auc: 0.95, ece: 0.03), candidate: Self.figures(auc: 0.99, ece: 0.06))
        #expect(!decision.promote && decision.reason.contains("calibration worse"))
    }
}
