import Foundation
import HTTPServer
import Ingest
import JSONCoding
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
                return StageMetricsJSON.response(report)
            }
        }
    }
}

/// The JSON of the stage funnel, written with `JSONWriter` (keys in the sorted order
/// `JSONEncoder` gives, the same bytes) rather than `JSONEncoder`: a year at `interval=day` is
/// 4 stages × 366 steps, and it answered 120–140 ms slower at p50 than the same SQL by week
/// (docs/benchmarks/insight.md), the cost of building and encoding the steps.
enum StageMetricsJSON {
    static func response(_ r: StageMetricsReads.Report) -> HTTPResponse {
        var w = JSONWriter(capacity: 256 + r.stages.count * (400 + 190 * (r.stages.first?.steps.count ?? 0)))
        w.fixedObject { w, f in
            w.member("from", first: &f); w.timestamp(Timestamp(r.from))
            w.member("interval", first: &f); w.string(r.interval.rawValue)
            w.member("stages", first: &f)
            w.array(r.stages) { w, s in stage(s, into: &w) }
            w.member("to", first: &f); w.timestamp(Timestamp(r.to))
        }
        return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: w.bytes)
    }

    static func stage(_ s: StageMetricsReads.Stage, into w: inout JSONWriter) {
        let hasGoal = s.goal != nil
        w.fixedObject { w, f in
            if let goal = s.goal {
                w.member("goal", first: &f)
                w.fixedObject { w, g in
                    w.member("when", first: &g); w.string(goal.when.text)
                    w.member("within", first: &g); w.string(goal.within.description)
                }
            }
            w.member("next", first: &f); w.optionalString(s.next)
            w.member("stage", first: &f); w.string(s.name)
            w.member("steps", first: &f)
            w.array(s.steps) { w, step in counts(step.counts, start: step.start, goal: hasGoal, rates: false, into: &w) }
            w.member("time_in_stage", first: &f)
            w.fixedObject { w, t in
                w.member("exits_measured", first: &t); w.int(s.staysMeasured)
                w.member("median_seconds", first: &t); number(s.medianSeconds.map { ($0 * 10).rounded() / 10 }, into: &w)
                w.member("p90_seconds", first: &t); number(s.p90Seconds.map { ($0 * 10).rounded() / 10 }, into: &w)
                w.member("relative_error", first: &t); w.number(0.0905)
            }
            w.member("totals", first: &f); counts(s.totals, start: nil, goal: hasGoal, rates: true, into: &w)
        }
    }

    /// A stage's counts in a step (with its `start`) or over the range (with the rates).
    static func counts(_ c: StageMetricsReads.Counts, start: Date?, goal: Bool, rates: Bool, into w: inout JSONWriter) {
        w.fixedObject { w, f in
            w.member("entries", first: &f); w.int(c.entries)
            w.member("exits", first: &f); w.int(c.exits)
            if goal {
                w.member("goal", first: &f)
                w.fixedObject { w, g in
                    w.member("conversion", first: &g); number(share(c.goalReached, of: c.entries), into: &w)
                    w.member("reached", first: &g); w.int(c.goalReached)
                }
            }
            if rates { w.member("later_rate", first: &f); number(share(c.movedLater, of: c.entries), into: &w) }
            w.member("left", first: &f); w.int(c.left)
            w.member("moved_back", first: &f); w.int(c.movedBack)
            w.member("moved_later", first: &f); w.int(c.movedLater)
            w.member("moved_next", first: &f); w.int(c.movedNext)
            if rates { w.member("next_rate", first: &f); number(share(c.movedNext, of: c.entries), into: &w) }
            if let start { w.member("start", first: &f); w.timestamp(Timestamp(start)) }
        }
    }

    static func number(_ v: Double?, into w: inout JSONWriter) { if let v { w.number(v) } else { w.null() } }

    /// `part / whole` to four decimals; nil without a whole.
    static func share(_ part: Int, of whole: Int) -> Double? {
        whole > 0 ? (Double(part) / Double(whole) * 10_000).rounded() / 10_000 : nil
    }
}
