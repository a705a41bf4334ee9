import Foundation
import HTTPServer
import Ingest
import JSONCoding
import LeadStore
import Segmentation

/// The JSON of a segment's metrics, written with `JSONWriter` (keys in the sorted order
/// `JSONEncoder` gives, the same bytes; `SegmentMetricsJSONTests` compares them) rather than
/// through an `Encodable` view: a year by hour is 8 784 steps (about 1.9 MB), and encoding them
/// with `JSONEncoder` was 70 % of the request's CPU (docs/benchmarks/insight.md).
///
/// Keys in snake case, times RFC 3339. `owner` and `goal` appear only when the segment has them,
/// and so do the `goal` counts of steps and totals; the stay percentiles are `null` without exits.
enum SegmentMetricsJSON {
    static func response(_ r: SegmentMetricsReads.Report, owner: String?, goal: Goal?) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: bytes(r, owner: owner, goal: goal))
    }

    static func bytes(_ r: SegmentMetricsReads.Report, owner: String?, goal: Goal?) -> [UInt8] {
        let hasGoal = goal != nil
        var w = JSONWriter(capacity: 1024 + r.steps.count * (hasGoal ? 230 : 180))
        w.fixedObject { w, f in
            w.member("entrants_by_channel", first: &f)
            w.fixedObject { w, c in
                w.member("first_touch", first: &c); w.object(r.channels["first"] ?? [:]) { w, n in w.int(n) }
                w.member("last_touch", first: &c); w.object(r.channels["last"] ?? [:]) { w, n in w.int(n) }
            }
            w.member("from", first: &f); w.timestamp(Timestamp(r.from))
            if let goal {
                w.member("goal", first: &f)
                w.fixedObject { w, g in
                    w.member("when", first: &g); w.string(goal.when.text)
                    w.member("within", first: &g); w.string(goal.within.description)
                }
            }
            w.member("interval", first: &f); w.string(r.interval.rawValue)
            if let owner { w.member("owner", first: &f); w.string(owner) }
            w.member("segment", first: &f); w.string(r.segment)
            w.member("steps", first: &f)
            w.array(r.steps) { w, step in counts(step.counts, goal: hasGoal, step: (step.size, step.start), into: &w) }
            w.member("time_in_segment", first: &f)
            w.fixedObject { w, t in
                w.member("exits_measured", first: &t); w.int(r.exitsMeasured)
                w.member("median_seconds", first: &t); StageMetricsJSON.number(r.medianSeconds.map { ($0 * 10).rounded() / 10 }, into: &w)
                w.member("p90_seconds", first: &t); StageMetricsJSON.number(r.p90Seconds.map { ($0 * 10).rounded() / 10 }, into: &w)
                w.member("relative_error", first: &t); w.number(0.0905)
            }
            w.member("to", first: &f); w.timestamp(Timestamp(r.to))
            w.member("totals", first: &f); counts(r.totals, goal: hasGoal, step: nil, into: &w)
        }
        return w.bytes
    }

    /// A step (with its `size` and `start`) or the totals of the range (without).
    static func counts(_ c: SegmentMetricsStep, goal: Bool, step: (size: Int, start: Date)?, into w: inout JSONWriter) {
        w.fixedObject { w, f in
            w.member("entries", first: &f); w.int(c.entries)
            w.member("exits", first: &f); w.int(c.exits)
            w.member("exits_by_reason", first: &f)
            w.fixedObject { w, e in
                w.member("erase", first: &e); w.int(c.exitsErase)
                w.member("merge", first: &e); w.int(c.exitsMerge)
                w.member("rule", first: &e); w.int(c.exitsRule)
                w.member("ruleset_change", first: &e); w.int(c.exitsRuleset)
                w.member("time_based", first: &e); w.int(c.exitsTime)
            }
            if goal {
                w.member("goal", first: &f)
                w.fixedObject { w, g in
                    w.member("conversion", first: &g); StageMetricsJSON.share(c.goalReached, of: c.entries, into: &w)
                    w.member("drop_offs", first: &g); w.int(c.dropOffs)
                    w.member("reached", first: &g); w.int(c.goalReached)
                }
            }
            if let step {
                w.member("size", first: &f); w.int(step.size)
                w.member("start", first: &f); w.timestamp(Timestamp(step.start))
            }
        }
    }
}
