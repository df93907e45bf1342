import Foundation

/// What a benchmark or a measurement prints: its title and markdown tables row by row as the
/// figures come (for a person), or with `--json` one document at the end — the title and every table's rows as
/// objects keyed by its header, figures as numbers — with progress lines sent to standard error
/// so that standard output is the document alone.
final class TablesOutput {
    private let title: String
    private let json: Bool
    private var tables: [(header: [String], rows: [[String]])] = []

    init(_ title: String, json: Bool) {
        (self.title, self.json) = (title, json)
        if !json { print(title) }
    }

    /// Starts a table with these column names.
    func table(_ header: [String]) {
        if !json {
            print((tables.isEmpty ? "" : "\n") + "| " + header.joined(separator: " | ") + " |")
            print("|" + String(repeating: "---|", count: header.count))
        }
        tables.append((header, []))
    }

    /// A row of the current table, one cell per column.
    func row(_ cells: [String]) {
        precondition(!tables.isEmpty && cells.count == tables[tables.count - 1].header.count, "a row needs its table's columns")
        if json { tables[tables.count - 1].rows.append(cells) } else { print("| " + cells.joined(separator: " | ") + " |") }
    }

    /// A progress or context line, not a figure.
    func note(_ line: String) {
        if json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
    }

    /// With `--json`, prints the document.
    func finish() throws {
        guard json else { return }
        struct Table: Encodable { let columns: [String]; let rows: [[String: Cell]] }
        struct Document: Encodable { let title: String; let tables: [Table] }
        try JSONOutput.print(Document(title: title, tables: tables.map { table in
            Table(columns: table.header, rows: table.rows.map { Dictionary(zip(table.header, $0.map(Cell.init)), uniquingKeysWith: { a, _ in a }) })
        }))
    }

    /// A cell as JSON: a number when it is one ("2362", "0.91"), its text otherwise ("180 MiB", "-").
    private enum Cell: Encodable {
        case number(Double), text(String)

        init(_ text: String) {
            self = Double(text.replacingOccurrences(of: ",", with: "")).map(Cell.number) ?? .text(text)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .number(let value): try container.encode(value)
            case .text(let value): try container.encode(value)
            }
        }
    }
}
