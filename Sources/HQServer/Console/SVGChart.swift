import Foundation

/// A server-rendered line chart as inline SVG (no JavaScript, no chart library): the console
/// draws a dealer's backlog and push volume over time with it. Only numbers and escaped
/// labels go into the markup.
struct SVGChart {
    var title: String
    var points: [(atMillis: Int64, value: Double)]
    var width = 640.0
    var height = 160.0

    var svg: String {
        let left = 48.0, bottom = 22.0, top = 10.0, right = 10.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let label = Self.escape(title)
        var parts = [
            #"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 \#(Int(width)) \#(Int(height))" role="img" aria-label="\#(label)">"#,
            "<title>\(label)</title>",
        ]
        guard let first = points.first, let last = points.last, points.count > 1 else {
            parts.append(#"<text x="\#(Int(left))" y="\#(Int(height / 2))" class="empty">no data yet</text></svg>"#)
            return parts.joined()
        }
        let maxValue = max(points.map(\.value).max() ?? 0, 1)
        let span = Double(max(last.atMillis - first.atMillis, 1))
        func x(_ at: Int64) -> Double { left + Double(at - first.atMillis) / span * plotWidth }
        func y(_ value: Double) -> Double { top + plotHeight - value / maxValue * plotHeight }
        let line = points.map { String(format: "%.1f,%.1f", x($0.atMillis), y($0.value)) }.joined(separator: " ")
        parts.append(#"<line class="axis" x1="\#(Int(left))" y1="\#(Int(top + plotHeight))" x2="\#(Int(width - right))" y2="\#(Int(top + plotHeight))"/>"#)
        parts.append(#"<text class="tick" x="\#(Int(left - 4))" y="\#(Int(top + 8))" text-anchor="end">\#(Self.number(maxValue))</text>"#)
        parts.append(#"<text class="tick" x="\#(Int(left - 4))" y="\#(Int(top + plotHeight))" text-anchor="end">0</text>"#)
        parts.append(#"<text class="tick" x="\#(Int(left))" y="\#(Int(height - 4))">\#(Self.time(first.atMillis))</text>"#)
        parts.append(#"<text class="tick" x="\#(Int(width - right))" y="\#(Int(height - 4))" text-anchor="end">\#(Self.time(last.atMillis))</text>"#)
        parts.append(#"<polyline class="series" fill="none" points="\#(line)"/>"#)
        parts.append("</svg>")
        return parts.joined()
    }

    static func number(_ value: Double) -> String { value >= 10_000 ? "\(Int(value / 1_000))k" : "\(Int(value))" }

    /// UTC: the axis ends are drawn, not scripted.
    static func time(_ millis: Int64) -> String { ConsoleTime.text(millis) }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
