import Captioning
import Reports

/// Writes an IMPRESSION for every image of a batch at once with the captioner (greedy: the
/// stream's pace), and whether the labeler reads pneumonia in it — what the study view sets
/// beside the radiologist's report.
public struct CaptionerStage: ImageBatchStage {
    public let captioner: Captioner
    let labeler = ReportLabeler()
    public var name: String { "captioner \(captioner.settings.version)" }
    public var inputSides: Set<Int> { [captioner.trunk.settings.inputSide] }
    /// The trunk's `weightsFingerprint`: a classifier stage with the same one keeps its maps for
    /// this stage (`EventProcessor.sharingTrunks`), which then reads them instead of running the
    /// same network again.
    public let trunkFingerprint: UInt64

    public init(captioner: Captioner) {
        self.captioner = captioner
        trunkFingerprint = captioner.trunk.network.weightsFingerprint
    }

    public func run(_ records: inout [ImageRecord]) {
        let side = captioner.trunk.settings.inputSide
        let shared = records.compactMap { $0.lastStageMaps[trunkFingerprint] }
        let captions = shared.count == records.count ? captioner.caption(trunkMaps: shared, decoding: .greedy)
            : captioner.caption(records.map { record in
                guard let pixels = record.thumbnails[side] else {
                    preconditionFailure("no \(side)-pixel copy: ThumbnailStage must keep the captioner's input side")
                }
                return pixels
            }, decoding: .greedy)
        for (index, caption) in captions.enumerated() {
            records[index].generatedImpression = caption
            records[index].captionerVersion = captioner.settings.version
            records[index].generatedStatesPneumonia = CaptionPairing.statesPneumonia(labeler.label(ReportSections(impression: caption)))
            records[index].lastStageMaps = [:]
        }
    }
}
