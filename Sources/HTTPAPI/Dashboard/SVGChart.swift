/// Inline SVG line charts for the dashboard, built from numbers only (safe to emit unescaped).
/// Each data point is a `<circle class="point">`, so a test can count them.
enum SVGChart {
    static func line(_ values: [Int], width: Int = 160, height: Int = 36, label: String) -> String {
        guard !values.isEmpty else { return "" }
        let top = max(1, values.max() ?? 1)
        let step = values.count > 1 ? Double(width - 4) / Double(values.count - 1) : 0
        let points = values.enumerated().map { i, v in
            (x: 2 + Double(i) * step, y: Double(height - 2) - Double(v) / Double(top) * Double(height - 4))
        }
        let path = points.map { "\(format($0.x)),\(format($0.y))" }.joined(separator: " ")
        let dots = points.map { #"<circle class="point" cx="\#(format($0.x))" cy="\#(format($0.y))" r="1.6"/>"# }.joined()
        // `label` is a number summary written by the caller from integers; escaped anyway.
        let title = label.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        return #"<svg class="chart" role="img" width="\#(width)" height="\#(height)" viewBox="0 0 \#(width) \#(height)">"#
            + "<title>\(title)</title>"
            + ##"<polyline fill="none" stroke="#2f6fdf" stroke-width="1.5" points="\##(path)"/>"## + dots + "</svg>"
    }

    static func format(_ v: Double) -> String { String(Double(Int(v * 10)) / 10) }
}
