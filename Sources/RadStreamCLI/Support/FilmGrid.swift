import Imaging

/// Films side by side, for a person to look at.
enum FilmGrid {
    /// Grey films of one side in rows of up to `columns`, a 2-pixel black gutter between them.
    static func grid(_ films: [[UInt8]], side: Int, columns: Int = 8, gutter: Int = 2) -> GreyImage {
        let columns = min(columns, max(films.count, 1)), rows = (films.count + columns - 1) / columns
        let width = columns * side + (columns - 1) * gutter, height = max(rows, 1) * side + max(rows - 1, 0) * gutter
        var pixels = [UInt8](repeating: 0, count: width * height)
        for (index, film) in films.enumerated() {
            let (x0, y0) = ((index % columns) * (side + gutter), (index / columns) * (side + gutter))
            for y in 0..<side { for x in 0..<side { pixels[(y0 + y) * width + x0 + x] = film[y * side + x] } }
        }
        return GreyImage(width: width, height: height, pixels: pixels)
    }
}
