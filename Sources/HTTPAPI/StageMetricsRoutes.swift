import Foundation
import HTTPServer
import Ingest
import LeadStore
import Segmentation

/// `GET /v1/stages/metrics?from=&to=&interval=hour|day|week`, scope `read`: the funnel between
/// the active ruleset's stages. Decodes the range as segment metrics do, reads the stage rollups
/// through `StageMetricsReads`, encodes (docs/insight.md).
package struct StageMetricsRoutes: Sendable {
    let rules: ActiveEngine
    let metrics: StageMetricsReads
    let clock: @Sendable () -> Date

    package init(rules: ActiveEngine, metrics: StageMetricsReads, clock: @escaping @Sendable () -> Date) {
        self.rules = rules; self.metrics = metrics; self.clock = clock
    }

    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        v1.group("/stages", middleware: api.authenticated(.read)) { stages in
            stages.get("/metrics") { request, _ in
                let r = try SegmentMetricsRoutes.decode(request, now: clock())
                let report = try metrics.report(stages: rules.engine.ruleset.stages, from: r.from, to: r.to, interval: r.interval)
                return .json(StageMetricsView(report))
            }
        }
    }
}

/// The JSON of the stage funnel; keys in snake case, times RFC 3339.
struct StageMetricsView: Encodable {
    /// A stage's counts in a step or over the range; rates only in totals, goal counts only for a stage with a goal.
    struct Counts: Encodable {
        var start: Timestamp?
        var c: StageMetricsReads.Counts
        var hasGoal: Bool
        var rates: Bool
        enum CodingKeys: String, CodingKey {
            case start, entries, movedNext = "moved_next", movedLater = "moved_later", movedBack = "moved_back", left, exits
            case nextRate = "next_rate", laterRate = "later_rate", goal
        }
        enum GoalKeys: String, CodingKey { case reached, conversion }
        func encode(to encoder: Encoder) throws {
            var k = encoder.container(keyedBy: CodingKeys.self)
            try k.encodeIfPresent(start, forKey: .start)
            try k.encode(c.entries, forKey: .entries); try k.encode(c.movedNext, forKey: .movedNext)
            try k.encode(c.movedLater, forKey: .movedLater); try k.encode(c.movedBack, forKey: .movedBack)
            try k.encode(c.left, forKey: .left); try k.encode(c.exits, forKey: .exits)
            if rates {
                try k.encode(Self.share(c.movedNext, of: c.entries), forKey: .nextRate)
                try k.encode(Self.share(c.movedLater, of: c.entries), forKey: .laterRate)
            }
            if hasGoal {
                var g = k.nestedContainer(keyedBy: GoalKeys.self, forKey: .goal)
                try g.encode(c.goalReached, forKey: .reached); try g.encode(Self.share(c.goalReached, of: c.entries), forKey: .conversion)
            }
        }
        /// `part / whole` to four decimals; null without a whole.
        static func share(_ part: Int, of whole: Int) -> Double? {
            whole > 0 ? (Double(part) / Double(whole) * 10_000).rounded() / 10_000 : nil
        }
    }
    struct Stage: Encodable {
        var stage: String; var next: String?; var goal: SegmentRoutes.GoalView?
        var totals: Counts; var timeInStage: SegmentMetricsView.Stay; var steps: [Counts]
        enum CodingKeys: String, CodingKey { case stage, next, goal, totals, timeInStage = "time_in_stage", steps }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(stage, forKey: .stage); try c.encode(next, forKey: .next); try c.encodeIfPresent(goal, forKey: .goal)
            try c.encode(totals, forKey: .totals); try c.encode(timeInStage, forKey: .timeInStage); try c.encode(steps, forKey: .steps)
        }
    }
    var from: Timestamp; var to: Timestamp; var interval: String; var stages: [Stage]

    init(_ r: StageMetricsReads.Report) {
        from = Timestamp(r.from); to = Timestamp(r.to); interval = r.interval.rawValue
        stages = r.stages.map { s in
            let hasGoal = s.goal != nil
            return Stage(stage: s.name, next: s.next, goal: s.goal.map(SegmentRoutes.GoalView.init),
                         totals: Counts(start: nil, c: s.totals, hasGoal: hasGoal, rates: true),
                         timeInStage: SegmentMetricsView.Stay(measured: s.staysMeasured, median: s.medianSeconds, p90: s.p90Seconds),
                         steps: s.steps.map { Counts(start: Timestamp($0.start), c: $0.counts, hasGoal: hasGoal, rates: false) })
        }
    }
}

extension SegmentMetricsView.Stay {
    /// Stays from a histogram's count and percentiles, to a tenth of a second (the same block for stages and segments).
    init(measured: Int, median: Double?, p90: Double?) {
        self.init(exitsMeasured: measured, medianSeconds: median.map { ($0 * 10).rounded() / 10 },
                  p90Seconds: p90.map { ($0 * 10).rounded() / 10 }, relativeError: 0.0905)
    }
}
