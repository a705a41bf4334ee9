import Foundation
import Ingest
import Segmentation

/// The overview's stage funnel (`GET /v1/stages/metrics` over the dashboard's days): a bar per
/// stage for its entries, and a row per stage with its moves on, goal conversion, median time in
/// stage and a sparkline of entries per day. Its own partial template (`stageFunnel`), included
/// by the overview with one line, so other panels can be added beside it without touching it.
enum DashboardStageFunnel {
    static let template = """
    <section id="stage-funnel"><h2>Stage funnel, last {{days}} days</h2>
    <div class="card">{{{bars}}}</div>
    <div class="scroll"><table><tr><th>Stage</th><th class="num">Entries</th><th>Entries per day</th><th>Next stage</th>
    <th class="num">Moved to next</th><th class="num">To a later stage</th><th class="num">Goal conversion</th><th class="num">Median time in stage</th></tr>
    {{#rows}}<tr data-stage="{{stage}}"><td>{{stage}}</td><td class="num entries">{{entries}}</td><td>{{{chart}}}</td><td>{{next}}</td>
    <td class="num">{{movedNext}} ({{nextRate}})</td><td class="num">{{laterRate}}</td><td class="num">{{conversion}}</td>
    <td class="num">{{median}}</td></tr>{{/rows}}{{^rows}}<tr><td colspan="8">The ruleset declares no stages.</td></tr>{{/rows}}
    </table></div></section>
    """

    /// The partial's context for `report` (stages in funnel order).
    static func context(_ report: StageMetricsReads.Report, days: Int) -> [String: Any] {
        let rows: [[String: Any]] = report.stages.map { s in
            [
                "stage": s.name, "entries": s.totals.entries, "next": s.next ?? "–", "movedNext": s.totals.movedNext,
                "nextRate": percent(s.totals.movedNext, of: s.totals.entries), "laterRate": percent(s.totals.movedLater, of: s.totals.entries),
                "conversion": s.goal == nil ? "–" : percent(s.totals.goalReached, of: s.totals.entries),
                "median": s.medianSeconds.map(duration) ?? "–",
                "chart": SVGChart.line(s.steps.map(\.counts.entries), label: "entries into \(s.name) per day"),
            ]
        }
        return ["days": days, "rows": rows, "bars": SVGChart.funnel(report.stages.map { ($0.name, $0.totals.entries) })]
    }

    static func percent(_ part: Int, of whole: Int) -> String {
        whole > 0 ? String(format: "%.1f %%", Double(part) / Double(whole) * 100) : "–"
    }

    /// A stay in the largest unit that keeps it readable: `45 s`, `12 min`, `5.5 h`, `3.2 d`.
    static func duration(_ seconds: Double) -> String {
        switch seconds {
        case ..<120: String(format: "%.0f s", seconds)
        case ..<7200: String(format: "%.0f min", seconds / 60)
        case ..<172_800: String(format: "%.1f h", seconds / 3600)
        default: String(format: "%.1f d", seconds / 86_400)
        }
    }
}

extension SVGChart {
    /// Horizontal bars, one per stage, as long as its count relative to the largest; each bar is a
    /// `<rect class="bar">` with the stage's name and count beside it (names escaped).
    static func funnel(_ stages: [(name: String, count: Int)], width: Int = 640) -> String {
        guard !stages.isEmpty else { return "" }
        let row = 26, labelWidth = 150, top = max(1, stages.map(\.count).max() ?? 1)
        let height = row * stages.count
        var svg = #"<svg class="chart funnel" role="img" width="\#(width)" height="\#(height)" viewBox="0 0 \#(width) \#(height)">"#
            + "<title>entries per stage</title>"
        for (i, s) in stages.enumerated() {
            let y = i * row, length = Double(width - labelWidth - 60) * Double(s.count) / Double(top)
            let name = s.name.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            svg += #"<text x="0" y="\#(y + 17)" font-size="13">\#(name)</text>"#
                + ##"<rect class="bar" x="\##(labelWidth)" y="\##(y + 4)" width="\##(format(max(length, 1)))" height="\##(row - 8)" fill="#2f6fdf"/>"##
                + #"<text x="\#(format(Double(labelWidth) + max(length, 1) + 6))" y="\#(y + 17)" font-size="13">\#(s.count)</text>"#
        }
        return svg + "</svg>"
    }
}

extension DashboardRoutes {
    /// The funnel partial's context over the charts' days, for the page's one ruleset.
    func stageFunnel(_ ruleset: Ruleset) throws -> [String: Any] {
        let now = clock()
        let report = try metrics.stages.report(stages: ruleset.stages, from: now.addingTimeInterval(-Double(Self.days) * 86_400), to: now,
                                               interval: .day)
        return DashboardStageFunnel.context(report, days: Self.days)
    }
}
