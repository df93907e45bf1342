import Foundation

/// The PneumoniaMNIST layout: a folder of images and a `labels.csv` whose header is
/// `file,<finding>` and whose rows are `<file name>,<0 or 1>`. The classes are then
/// `["normal", "<finding>"]`. Each image is its own group (the collection has no patient ids).
public enum BinaryLabelFolder {
    public static func load(_ folder: URL, side: Int) throws -> LabeledImageSet {
        let csv = folder.appendingPathComponent("labels.csv")
        guard let text = try? String(contentsOf: csv, encoding: .utf8) else {
            throw DatasetError("\(csv.path): cannot be read (a folder of images with a labels.csv is expected)")
        }
        var lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !lines.isEmpty else { throw DatasetError("\(csv.path) is empty") }
        let header = lines.removeFirst().split(separator: ",").map(String.init)
        guard header.count == 2, header[0] == "file", !header[1].isEmpty else {
            throw DatasetError("\(csv.path): the header must be file,<finding>; it is \(header.joined(separator: ","))")
        }
        var entries: [(file: String, label: Int, group: String)] = []
        for (number, line) in lines.enumerated() {
            let fields = line.split(separator: ",").map(String.init)
            guard fields.count == 2, let label = Int(fields[1]), label == 0 || label == 1,
                  !fields[0].contains("/"), fields[0] != ".."
            else { throw DatasetError("\(csv.path) line \(number + 2): expected <file name>,<0|1>, got \(line)") }
            entries.append((fields[0], label, fields[0]))
        }
        return try LabeledImageSet.load(folder: folder, entries: entries, classes: ["normal", header[1]], side: side)
    }
}
