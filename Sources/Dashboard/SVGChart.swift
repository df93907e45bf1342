import Foundation

/// Charts drawn on the server as SVG: series of (time, value) points as lines with a marker at
/// each point (each with its value as a tooltip), a time axis, a value axis from zero, a legend.
struct SVGChart {
    struct Series {
        let name: String
        let points: [(time: Date, value: Double)]
    }

    let series: [Series]
    var width = 640.0
    var height = 220.0
    var valueLabel = ""

    private static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"]
    private static let margin = (left: 48.0, right: 12.0, top: 12.0, bottom: 36.0)

    var svg: String {
        let points = series.flatMap(\.points)
        guard let first = points.map(\.time).min(), let last = points.map(\.time).max() else {
            return "<p>no data in this range</p>"
        }
        let span = max(last.timeIntervalSince(first), 1)
        let top = max(points.map(\.value).max() ?? 1, 1e-9) * 1.1
        let (plotWidth, plotHeight) = (width - Self.margin.left - Self.margin.right, height - Self.margin.top - Self.margin.bottom)
        // One instant (a stream younger than the chart's step) sits in the middle, not on the axis.
        func x(_ time: Date) -> Double { Self.margin.left + plotWidth * (first == last ? 0.5 : time.timeIntervalSince(first) / span) }
        func y(_ value: Double) -> Double { Self.margin.top + plotHeight * (1 - value / top) }
        let format = Date.FormatStyle(date: .abbreviated, time: .shortened, timeZone: TimeZone(identifier: "UTC")!)
        var parts: [String] = []
        parts.append("<line x1=\"\(Self.margin.left)\" y1=\"\(y(0))\" x2=\"\(width - Self.margin.right)\" y2=\"\(y(0))\" stroke=\"#999\"/>")
        parts.append("<line x1=\"\(Self.margin.left)\" y1=\"\(Self.margin.top)\" x2=\"\(Self.margin.left)\" y2=\"\(y(0))\" stroke=\"#999\"/>")
        parts.append("<text x=\"\(Self.margin.left - 4)\" y=\"\(Self.margin.top + 10)\" text-anchor=\"end\">\(Self.number(top / 1.1))</text>")
        parts.append("<text x=\"\(Self.margin.left - 4)\" y=\"\(y(0))\" text-anchor=\"end\">0</text>")
        parts.append("<text x=\"\(Self.margin.left)\" y=\"\(height - 18)\">\(HTML.escape(first.formatted(format)))</text>")
        parts.append("<text x=\"\(width - Self.margin.right)\" y=\"\(height - 18)\" text-anchor=\"end\">\(HTML.escape(last.formatted(format)))</text>")
        if !valueLabel.isEmpty {
            parts.append("<text x=\"\(Self.margin.left + 4)\" y=\"\(Self.margin.top + 10)\">\(HTML.escape(valueLabel))</text>")
        }
        // Legend entries side by side, each as wide as its name (about 7 px a character at the page's size).
        var legendX = Self.margin.left
        for (index, one) in series.enumerated() {
            let colour = Self.colours[index % Self.colours.count]
            let sorted = one.points.sorted { $0.time < $1.time }
            let line = sorted.map { "\(Self.coordinate(x($0.time))),\(Self.coordinate(y($0.value)))" }.joined(separator: " ")
            parts.append("<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" points=\"\(line)\"/>")
            for point in sorted {
                parts.append("<circle class=\"point\" cx=\"\(Self.coordinate(x(point.time)))\" cy=\"\(Self.coordinate(y(point.value)))\" r=\"2.5\" fill=\"\(colour)\">"
                             + "<title>\(HTML.escape(one.name)): \(Self.number(point.value)) at \(HTML.escape(point.time.formatted(format)))</title></circle>")
            }
            parts.append("<rect x=\"\(legendX)\" y=\"\(height - 10)\" width=\"10\" height=\"3\" fill=\"\(colour)\"/>"
                         + "<text x=\"\(legendX + 14)\" y=\"\(height - 6)\">\(HTML.escape(one.name))</text>")
            legendX += 14 + 7 * Double(one.name.count) + 18
        }
        return "<svg role=\"img\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\">\(parts.joined())</svg>"
    }

    private static func coordinate(_ value: Double) -> String { String(format: "%.1f", value) }
    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(format: "%.3g", value)
    }
}

/// The step of a chart over time: the finest that keeps it within about 200 points, so that a
/// stream an hour old is charted by the minute and a week of it by the hour.
struct ChartStep: Equatable {
    let name: String
    let interval: String  // as PostgreSQL reads an interval
    let seconds: Double

    static let all = [ChartStep(name: "minute", interval: "1 minute", seconds: 60),
                      ChartStep(name: "5 minutes", interval: "5 minutes", seconds: 300),
                      ChartStep(name: "15 minutes", interval: "15 minutes", seconds: 900),
                      ChartStep(name: "hour", interval: "1 hour", seconds: 3600)]

    static func fitting(span seconds: Double) -> ChartStep {
        all.first { seconds / $0.seconds <= 200 } ?? all.last!
    }
}
