/// Server-rendered pages: text escaped for HTML, one layout, tables. Nothing is fetched from
/// elsewhere (no script, no font, no stylesheet): the pages show patient data and must work on
/// a hospital network that reaches nothing outside.
enum HTML {
    /// Text safe inside an element or a double-quoted attribute.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static let pages: [(path: String, title: String)] = [("/", "Overview"), ("/studies", "Studies"), ("/models", "Models"),
                                                          ("/dead-letters", "Dead letters")]

    static func page(title: String, path: String, body: String) -> String {
        let navigation = pages.map { page in
            "<a href=\"\(page.path)\"\(page.path == path ? " class=\"here\"" : "")>\(escape(page.title))</a>"
        }.joined(separator: " ")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title)) · RadStream</title>
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; margin: 0 2em 2em; color: #222; }
            nav { padding: 0.8em 0; border-bottom: 1px solid #ccc; margin-bottom: 1em; }
            nav a { margin-right: 1.2em; text-decoration: none; color: #245; }
            nav a.here { font-weight: bold; }
            table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
            th, td { border-bottom: 1px solid #e4e4e4; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
            th { background: #f4f4f4; }
            .flag { color: #a11; font-weight: bold; }
            .films img { image-rendering: pixelated; width: 256px; height: 256px; margin-right: 1em; border: 1px solid #ccc; }
            figure { display: inline-block; margin: 0 1em 1em 0; } figcaption { font-size: 12px; color: #555; }
            form label { margin-right: 1em; }
            svg text { font: 11px system-ui, sans-serif; fill: #444; }
            </style></head>
            <body><nav><strong>RadStream</strong> \(navigation)</nav>
            <h1>\(escape(title))</h1>
            \(body)
            </body></html>
            """
    }

    /// A table whose cells are HTML already (escape text before).
    static func table(header: [String], rows: [[String]], empty: String = "nothing yet") -> String {
        guard !rows.isEmpty else { return "<p>\(escape(empty))</p>" }
        let head = header.map { "<th>\(escape($0))</th>" }.joined()
        let body = rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined(separator: "\n")
        return "<table><thead><tr>\(head)</tr></thead><tbody>\n\(body)\n</tbody></table>"
    }

    static func flag(_ value: Bool?) -> String {
        switch value {
        case true?: "<span class=\"flag\">yes</span>"
        case false?: "no"
        case nil: "–"
        }
    }
}
