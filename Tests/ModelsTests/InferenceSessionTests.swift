import AllocationCounter
import Foundation
import TestSupport
import Testing
@testable import Models
@testable import TensorEngine

@Suite("Allocation-free inference")
struct InferenceSessionTests {
    static func shippedPneumonia() throws -> ImageClassifier {
        try ImageClassifier(contentsOf: TestData.packageRoot.appending(path: "models/pneumonia/model.safetensors"))
    }

    static func images(_ count: Int, seed: UInt64) -> [[UInt8]] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in (0..<784).map { _ in UInt8(truncatingIfNeeded: generator.next()) } }
    }

    /// The session gives the probabilities of the tensor path, for a full batch and a partial one.
    @Test func aSessionGivesTheClassifiersProbabilities() throws {
        let classifier = try Self.shippedPneumonia()
        let session = try ImageClassifier.InferenceSession(classifier: classifier, batch: 4)
        for count in [4, 3] {
            let images = Self.images(count, seed: UInt64(count))
            var output = [Float](repeating: -1, count: 8)
            output.withUnsafeMutableBufferPointer { session.probabilities(images, into: $0) }
            let expected = classifier.probabilities(images).flatMap { $0 }
            #expect(zip(output.prefix(count * 2), expected).allSatisfy { abs($0 - $1) < 1e-5 }, "\(output) vs \(expected)")
            #expect(output.dropFirst(count * 2).allSatisfy { $0 == -1 })  // rows past the images are not written
        }
    }

    /// Warmed up by one call, a call allocates nothing (on one engine worker: the other workers'
    /// threads are libdispatch's) — nothing of ours: OpenBLAS's small-matrix kernels allocate
    /// within sgemm on the targets that have them (its Cooperlake on a Zen 4), counted apart. The
    /// counter itself is checked to see an allocation.
    @Test func aWarmedUpSessionAllocatesNothing() throws {
        let session = try ImageClassifier.InferenceSession(classifier: Self.shippedPneumonia(), batch: 1)
        let images = Self.images(1, seed: 7)
        var output = [Float](repeating: 0, count: 2)
        let allocations = EngineWorkers.with(1) {
            output.withUnsafeMutableBufferPointer { session.probabilities(images, into: $0) }
            allocation_counter_start()
            for _ in 0..<20 {
                output.withUnsafeMutableBufferPointer { session.probabilities(images, into: $0) }
            }
            return allocation_counter_stop()
        }
        #expect(allocations == 0)
        allocation_counter_start()
        let made = [Float](repeating: 1, count: images[0].count)
        let seen = allocation_counter_stop()
        #expect(seen >= 1 && made.count == 784, "the counter sees allocations")
        // The tensor path, by contrast, allocates at every call.
        let classifier = session.classifier
        let tensorPath = EngineWorkers.with(1) {
            _ = classifier.probabilities(images)
            allocation_counter_start()
            _ = classifier.probabilities(images)
            return allocation_counter_stop()
        }
        #expect(tensorPath > 10)
    }

    @Test func theAttentionAblationHasNoPlan() {
        let network = ResidualCNN(configuration: .init(channels: [4, 4, 8], attentionHeads: 2), seed: 1).frozen()
        #expect(throws: CheckpointError.self) { _ = try ResidualCNN.InferencePlan(network: network, batch: 1, side: 28) }
        #expect(throws: CheckpointError.self) {
            _ = try ResidualCNN.InferencePlan(network: ResidualCNN(configuration: .init(channels: [4, 4, 8]), seed: 1), batch: 1, side: 28)
        }
    }
}

@Suite("Explaining through the inference plan")
struct InferenceSessionExplanationTests {
    /// The plan's explanations are the graph's: probabilities, decision, Grad-CAM map and the
    /// applicability features of either pooling (or none), for a partial batch and a full one.
    @Test(arguments: [ApplicabilityPooling?.none, .global, .quadrants])
    func aSessionExplainsAsTheGraphDoes(pooling: ApplicabilityPooling?) throws {
        let classifier = try InferenceSessionTests.shippedPneumonia()
        let session = try ImageClassifier.InferenceSession(classifier: classifier, batch: 6)
        func close(_ a: [Float], _ b: [Float], _ tolerance: Float) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
        }
        for count in [6, 5] {
            let images = InferenceSessionTests.images(count, seed: UInt64(10 + count))
            let planned = session.explain(images, applicabilityPooling: pooling)
            let graph = classifier.explain(images, applicabilityPooling: pooling)
            #expect(planned.count == count)
            for (p, g) in zip(planned, graph) {
                #expect(close(p.probabilities, g.probabilities, 1e-5))
                #expect(p.decidedClass == g.decidedClass)
                #expect(p.saliency.width == g.saliency.width && close(p.saliency.values, g.saliency.values, 1e-4))
                if pooling == nil {
                    #expect(p.applicabilityFeatures == nil && g.applicabilityFeatures == nil)
                } else {
                    #expect(close(p.applicabilityFeatures ?? [], g.applicabilityFeatures ?? [-1], 1e-4))
                }
            }
        }
        #expect(session.explain([], applicabilityPooling: pooling).isEmpty)
    }
}
