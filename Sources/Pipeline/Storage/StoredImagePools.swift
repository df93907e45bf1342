import Postgres
import SelfTraining
import Training

/// The images the stream has kept (`images`, their downsampled pixels in `image_pixels`, both
/// written by `ResultWriter`), as self-training reads them: unlabeled ones, and those whose
/// events carried a label for the model.
public struct StoredImagePools: ImagePools {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Images without a label for `model` (no labels at all, or none of its name): at most
    /// `limit`, the newest; and the id of the newest image the pool could hold, labeled or not,
    /// from which the next round counts.
    public func unlabeled(for model: String, side: Int, limit: Int) throws -> (images: [[UInt8]], lastImageID: Int) {
        let last = try connection.execute("SELECT coalesce(max(id), 0) FROM images").scalarInt ?? 0
        let rows = try connection.execute("""
            SELECT p.pixels FROM images i JOIN image_pixels p ON p.image_id = i.id AND p.side = $2
            WHERE i.id <= $4 AND (i.labels IS NULL OR NOT i.labels ? $1)
            ORDER BY i.id DESC LIMIT $3
            """, [.text(model), .int(side), .int(limit), .int(last)])
        return (try rows.rows.map { try Self.pixels($0[0], side: side) }, last)
    }

    /// How many images without a label for `model` have arrived after image `id`.
    public func unlabeledCount(for model: String, after id: Int) throws -> Int {
        try connection.execute("SELECT count(*) FROM images WHERE id > $2 AND (labels IS NULL OR NOT labels ? $1)",
                               [.text(model), .int(id)]).scalarInt ?? 0
    }

    /// Images whose events labeled them for the binary `model` (`"labels": {"pneumonia": 1}`):
    /// 0 is the first class, 1 the second.
    public func labeled(for model: String, side: Int) throws -> [LabeledImage] {
        let rows = try connection.execute("""
            SELECT i.image_id, (i.labels->>$1)::int, p.pixels FROM images i
            JOIN image_pixels p ON p.image_id = i.id AND p.side = $2
            WHERE i.labels->>$1 IN ('0', '1') ORDER BY i.id
            """, [.text(model), .int(side)])
        return try rows.rows.map { row in
            LabeledImage(file: "stream:\(row[0]!)", pixels: try Self.pixels(row[2], side: side), label: Int(row[1]!)!, group: "stream:\(row[0]!)")
        }
    }

    static func pixels(_ text: String?, side: Int) throws -> [UInt8] {
        guard let bytes = PostgresRows.bytes(text), bytes.count == side * side else {
            throw SelfTrainingError("an image_pixels row is not \(side)×\(side) bytes")
        }
        return bytes
    }
}
