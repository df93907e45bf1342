import Captioning
import Reports

/// Writes an IMPRESSION for every image of a batch at once with the captioner (greedy: the
/// stream's pace), and whether the labeler reads pneumonia in it — what the study view sets
/// beside the radiologist's report.
public struct CaptionerStage: ImageBatchStage {
    public let captioner: Captioner
    let labeler: ReportLabeler
    public var name: String { "captioner \(captioner.settings.version)" }
    public var inputSides: Set<Int> { [captioner.trunk.settings.inputSide] }

    public init(captioner: Captioner, labeler: ReportLabeler = ReportLabeler()) {
        self.captioner = captioner
        self.labeler = labeler
    }

    public func run(_ records: inout [ImageRecord]) {
        let side = captioner.trunk.settings.inputSide
        let captions = captioner.caption(records.map { record in
            guard let pixels = record.thumbnails[side] else {
                preconditionFailure("no \(side)-pixel copy: ThumbnailStage must keep the captioner's input side")
            }
            return pixels
        }, decoding: .greedy)
        for (index, caption) in captions.enumerated() {
            records[index].generatedImpression = caption
            records[index].captionerVersion = captioner.settings.version
            records[index].generatedStatesPneumonia = CaptionPairing.statesPneumonia(labeler.label(ReportSections(impression: caption)))
        }
    }
}
