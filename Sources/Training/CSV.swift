/// Rows of a CSV file as RFC 4180 writes them: fields in double quotes may hold commas, line
/// breaks and doubled quotes ("" for "). The COVID-19 collection's clinical notes need all three.
enum CSV {
    static func rows(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false
        var characters = text.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? characters.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = characters.next() {
                        if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                    } else { quoted = false }
                } else {
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"": quoted = true
            case ",": row.append(field); field = ""
            case "\n", "\r\n", "\r":
                row.append(field); field = ""
                if row != [""] { rows.append(row) }
                row = []
            default: field.append(c)
            }
        }
        row.append(field)
        if row != [""] { rows.append(row) }
        return rows
    }
}
