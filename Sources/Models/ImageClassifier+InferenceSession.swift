import Foundation
import TensorEngine

extension ImageClassifier {
    /// Calibrated probabilities for up to `batch` images per call, from memory allocated when the
    /// session is made: for a caller that classifies one image (or a few) at a time, many times —
    /// where allocating every activation anew costs more than the arithmetic. Warmed up by one
    /// call, a call allocates nothing on one engine worker. One session per thread.
    public final class InferenceSession {
        public let classifier: ImageClassifier
        private let plan: ResidualCNN.InferencePlan
        private let logits: UnsafeMutableBufferPointer<Float>
        /// Grad-CAM's channel weights for each class (the network's own, made once).
        private let saliencyWeights: [[Float]]

        public init(classifier: ImageClassifier, batch: Int) throws {
            self.classifier = classifier
            plan = try ResidualCNN.InferencePlan(network: classifier.network, batch: batch, side: classifier.settings.inputSide)
            logits = .allocate(capacity: batch * plan.classes)
            saliencyWeights = classifier.saliencyWeights()
        }

        deinit { logits.deallocate() }

        public var batch: Int { plan.batch }

        /// Writes the calibrated probabilities of `images` (side × side bytes each, at most
        /// `batch`), one row of `classes` per image, into `probabilities`.
        public func probabilities(_ images: [[UInt8]], into probabilities: UnsafeMutableBufferPointer<Float>) {
            let classes = plan.classes
            precondition(probabilities.count >= images.count * classes, "room for \(images.count * classes) probabilities expected")
            run(images)
            let inverseTemperature = 1 / classifier.settings.temperature
            for row in 0..<images.count {
                var peak = -Float.infinity
                for column in 0..<classes { peak = max(peak, logits[row * classes + column] * inverseTemperature) }
                var total: Float = 0
                for column in 0..<classes {
                    let value = Foundation.exp(logits[row * classes + column] * inverseTemperature - peak)
                    probabilities[row * classes + column] = value
                    total += value
                }
                for column in 0..<classes { probabilities[row * classes + column] /= total }
            }
        }

        /// The last stage's feature maps of `images` (at most `batch`), images × C × H × W, as
        /// `ResidualCNN.features` gives them (to 1e-5): what the captioner reads a film by.
        public func lastStageMaps(_ images: [[UInt8]]) -> Tensor {
            run(images)
            return plan.stageMaps(images: images.count, lastOnly: true)[0]
        }

        /// Normalises `images` into the plan's input, as the classifier's `input` does, and runs it.
        private func run(_ images: [[UInt8]]) {
            let settings = classifier.settings, pixels = settings.inputSide * settings.inputSide
            precondition(images.count <= plan.batch, "at most \(plan.batch) images")
            let input = plan.input
            let scale = 1 / (255 * settings.pixelStandardDeviation), shift = settings.pixelMean / settings.pixelStandardDeviation
            for (index, image) in images.enumerated() {
                precondition(image.count == pixels, "a \(settings.inputSide)×\(settings.inputSide) input expected")
                for i in 0..<pixels { input[index * pixels + i] = Float(image[i]) * scale - shift }
            }
            // Rows past the images keep what they held: computed, never read.
            plan.run(into: logits)
        }

        /// What `ImageClassifier.explain` gives — calibrated probabilities, the decided class, its
        /// Grad-CAM map and, with a pooling, the applicability gate's features — for up to `batch`
        /// images, through the plan: the same values (to 1e-5), the convolutions into the plan's
        /// buffers. (Grad-CAM here needs no backward pass: it weighs the last stage's maps.)
        public func explain(_ images: [[UInt8]], applicabilityPooling pooling: ApplicabilityPooling? = nil) -> [Explanation] {
            guard !images.isEmpty else { return [] }
            let classes = plan.classes
            var flat = [Float](repeating: 0, count: images.count * classes)
            flat.withUnsafeMutableBufferPointer { probabilities(images, into: $0) }
            let rows = (0..<images.count).map { Array(flat[($0 * classes)..<(($0 + 1) * classes)]) }
            // Without a pooling only the last stage's maps are read: only they are copied out.
            let stages = plan.stageMaps(images: images.count, lastOnly: pooling == nil)
            return classifier.explanations(probabilities: rows, stages: stages, pooling: pooling, saliencyWeights: saliencyWeights)
        }
    }
}

extension ImageClassifier {
    /// Inference sessions that values and threads can share (a stage copied into several
    /// processors, a gate's population check, the captioner's slices on both cores): a call takes
    /// an idle session, or makes one when every session is busy, and gives it back — so there are
    /// as many as calls ever ran at once, one for a single consumer thread. Images beyond the
    /// batch are taken a batch at a time, so a call's memory is one batch's whatever its size.
    public final class SharedInferenceSession: @unchecked Sendable {  // `idle` is touched under `lock` only
        public let classifier: ImageClassifier
        public let batch: Int
        private var idle: [InferenceSession]
        private let lock = NSLock()

        /// Nil for a network the plan does not cover (the attention ablation): run the graph.
        public init?(classifier: ImageClassifier, batch: Int) {
            guard let session = try? InferenceSession(classifier: classifier, batch: batch) else { return nil }
            (self.classifier, self.batch, idle) = (classifier, batch, [session])
        }

        private func withSession<T>(_ body: (InferenceSession) -> T) -> T {
            // The first session was made from the same classifier and batch: another cannot fail.
            let session = lock.withLock { idle.popLast() } ?? (try! InferenceSession(classifier: classifier, batch: batch))
            defer { lock.withLock { idle.append(session) } }
            return body(session)
        }

        /// `images` a batch at a time.
        private func batches(_ images: [[UInt8]]) -> [[[UInt8]]] {
            stride(from: 0, to: images.count, by: batch).map { Array(images[$0..<min($0 + batch, images.count)]) }
        }

        /// Calibrated probabilities, one row per image, as `ImageClassifier.probabilities`.
        public func probabilities(_ images: [[UInt8]]) -> [[Float]] {
            let classes = classifier.settings.classes.count
            var flat = [Float](repeating: 0, count: images.count * classes)
            flat.withUnsafeMutableBufferPointer { buffer in
                withSession { session in
                    for (index, part) in batches(images).enumerated() {
                        session.probabilities(part, into: .init(rebasing: buffer[(index * batch * classes)...]))
                    }
                }
            }
            return images.indices.map { Array(flat[($0 * classes)..<(($0 + 1) * classes)]) }
        }

        /// `InferenceSession.explain`, a batch at a time.
        public func explain(_ images: [[UInt8]], applicabilityPooling pooling: ApplicabilityPooling? = nil) -> [Explanation] {
            withSession { session in batches(images).flatMap { session.explain($0, applicabilityPooling: pooling) } }
        }

        /// `InferenceSession.lastStageMaps`, a batch at a time, as one tensor (of at least one image).
        public func lastStageMaps(_ images: [[UInt8]]) -> Tensor {
            precondition(!images.isEmpty, "no images to read")
            return withSession { session in
                let parts = batches(images).map(session.lastStageMaps)
                return parts.count == 1 ? parts[0] : Tensor(shape: [images.count] + parts[0].shape.dropFirst(), data: parts.flatMap(\.data))
            }
        }
    }
}
