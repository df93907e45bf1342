import Foundation

/// The ieee8023 COVID-19 chest X-ray collection (`metadata.csv` and `images/`), read as three
/// classes: COVID-19, other pneumonia, and no finding.
///
/// What becomes of each `finding`:
/// - "COVID-19" and "COVID-19, ARDS" → covid-19.
/// - Every other named pneumonia — viral (SARS, influenza, varicella), bacterial (Streptococcus,
///   Klebsiella, Legionella, Mycoplasma, E. coli, Chlamydophila, "Bacterial"), fungal
///   (Pneumocystis), lipoid, and plain "Pneumonia" → other_pneumonia.
/// - "No Finding" → no_finding.
/// - "todo" (the collection's own mark for a diagnosis not yet entered), "Unknown", and ARDS
///   without a cause are left out: their class is not known, and guessing it from the clinical
///   notes would put our guesses into the labels the model is measured against. They are the
///   kind of image self-training can use without a label.
public enum CovidCollection {
    public static let classes = ["covid-19", "other_pneumonia", "no_finding"]

    public struct Contents: Sendable {
        public let set: LabeledImageSet
        /// Images left out, by their `finding`.
        public let leftOut: [String: Int]
        /// The films left out, read all the same: their finding is unknown, but they are adult
        /// chest films of this collection (what a population check needs). `label` is 0 and
        /// means nothing.
        public let unlabelled: [LabeledImage]
    }

    public static func label(of finding: String) -> Int? {
        switch finding.trimmingCharacters(in: .whitespaces) {
        case "COVID-19", "COVID-19, ARDS": 0
        case "No Finding": 2
        case "todo", "Unknown", "ARDS", "": nil
        default: 1
        }
    }

    public static func load(_ folder: URL, side: Int) throws -> Contents {
        let csv = folder.appendingPathComponent("metadata.csv")
        guard let text = try? String(contentsOf: csv, encoding: .utf8) else { throw DatasetError("\(csv.path) cannot be read") }
        var rows = CSV.rows(text)
        guard !rows.isEmpty else { throw DatasetError("\(csv.path) is empty") }
        let header = rows.removeFirst()
        func column(_ name: String) throws -> Int {
            guard let index = header.firstIndex(of: name) else { throw DatasetError("\(csv.path) has no \(name) column") }
            return index
        }
        let (patient, finding, file) = (try column("patientid"), try column("finding"), try column("png_256"))
        var entries: [(file: String, label: Int, group: String)] = []
        var leftOut: [String: Int] = [:]
        var unlabelled: [(file: String, label: Int, group: String)] = []
        for (number, row) in rows.enumerated() {
            guard row.count == header.count else {
                throw DatasetError("\(csv.path) record \(number + 2): \(row.count) fields, the header has \(header.count)")
            }
            // The CSV names the file under images_256/; the collection keeps it in images/.
            let name = URL(filePath: row[file]).lastPathComponent
            guard !name.isEmpty, name != "..", !name.contains("/") else {
                throw DatasetError("\(csv.path) record \(number + 2): bad file name \(row[file])")
            }
            guard let label = label(of: row[finding]) else {
                leftOut[row[finding], default: 0] += 1
                unlabelled.append(("images/\(name)", 0, "patient-\(row[patient])"))
                continue
            }
            entries.append(("images/\(name)", label, "patient-\(row[patient])"))
        }
        return Contents(set: try LabeledImageSet.load(folder: folder, entries: entries, classes: classes, side: side), leftOut: leftOut,
                        unlabelled: try LabeledImageSet.load(folder: folder, entries: unlabelled, classes: classes, side: side).images)
    }
}
