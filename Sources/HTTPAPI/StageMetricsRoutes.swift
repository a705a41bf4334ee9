import Foundation
import HTTPServer
import Ingest
import JSONCoding
import LeadStore
import Segmentation

/// `GET /v1/stages/metrics?from=&to=&interval=hour|day|week`, scope `read`: the funnel between
/// the active ruleset's stages. Decodes the range as segment metrics do, reads the stage rollups
/// through `StageMetricsReads`, encodes (docs/insight.md); gzip-compressed for clients that ask
/// (`CompressResponses`).
package struct StageMetricsRoutes: Sendable {
    let rules: ActiveEngine
    let metrics: StageMetricsReads
    let clock: @Sendable () -> Date

    package init(rules: ActiveEngine, metrics: StageMetricsReads, clock: @escaping @Sendable () -> Date) {
        self.rules = rules; self.metrics = metrics; self.clock = clock
    }

    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        v1.group("/stages", middleware: api.authenticated(.read) + [CompressResponses()]) { stages in
            stages.get("/metrics") { request, _ in
                let r = try SegmentMetricsRoutes.decode(request, now: clock())
                let report = try metrics.report(stages: rules.engine.ruleset.stages, from: r.from, to: r.to, interval: r.interval)
                return StageMetricsJSON.response(report)
            }
        }
    }
}

/// The JSON of the stage funnel, written with `JSONWriter` (keys in the sorted order
/// `JSONEncoder` gives, the same bytes; `StageMetricsJSONTests` compares them with the writer
/// this one replaced) rather than `JSONEncoder`. A year by hour is 4 stages × 8 784 steps (5.5 MB),
/// so a step is written from fixed fragments through a `JSONCursor` (one append into the answer a
/// step instead of one a key and a value), its `start` formatted once for every stage, and its
/// shares from integers (docs/benchmarks/insight.md).
enum StageMetricsJSON {
    static func response(_ r: StageMetricsReads.Report) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: bytes(r))
    }

    static func bytes(_ r: StageMetricsReads.Report) -> [UInt8] {
        let starts = StepStarts(r.stages.first?.steps.map(\.start) ?? [])
        var w = JSONWriter(capacity: 256 + r.stages.count * (400 + 190 * starts.count))
        w.fixedObject { w, f in
            w.member("from", first: &f); w.timestamp(Timestamp(r.from))
            w.member("interval", first: &f); w.string(r.interval.rawValue)
            w.member("stages", first: &f)
            w.array(r.stages) { w, s in stage(s, starts: starts, into: &w) }
            w.member("to", first: &f); w.timestamp(Timestamp(r.to))
        }
        return w.bytes
    }

    /// The `"…"` of each step start, formatted once: every stage has the same steps.
    struct StepStarts {
        let dates: [Date]
        private var text: [UInt8] = []
        private var ends: [Int] = []
        var count: Int { dates.count }

        init(_ dates: [Date]) {
            self.dates = dates
            var w = JSONWriter(capacity: dates.count * 26)
            ends.reserveCapacity(dates.count)
            for d in dates { w.timestamp(Timestamp(d)); ends.append(w.bytes.count) }
            text = w.bytes
        }

        /// The quoted start of step `k` when it is `date`; nil otherwise (the caller formats it).
        func quoted(_ k: Int, _ date: Date) -> ArraySlice<UInt8>? {
            guard k < dates.count, dates[k] == date else { return nil }
            return text[(k == 0 ? 0 : ends[k - 1])..<ends[k]]
        }
    }

    static func stage(_ s: StageMetricsReads.Stage, starts: StepStarts, into w: inout JSONWriter) {
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
            w.byte(UInt8(ascii: "["))
            for (k, step) in s.steps.enumerated() {
                if let quoted = starts.quoted(k, step.start) {
                    w.write(room: stepRoom + quoted.count) { c in
                        if k > 0 { c.byte(UInt8(ascii: ",")) }
                        counts(step.counts, goal: hasGoal, rates: false, into: &c)
                        c.fragment(#","start":"#); c.fragment(quoted); c.byte(UInt8(ascii: "}"))
                    }
                } else {
                    w.write(room: stepRoom) { c in
                        if k > 0 { c.byte(UInt8(ascii: ",")) }
                        counts(step.counts, goal: hasGoal, rates: false, into: &c)
                        c.fragment(#","start":"#)
                    }
                    w.timestamp(Timestamp(step.start)); w.byte(UInt8(ascii: "}"))
                }
            }
            w.byte(UInt8(ascii: "]"))
            w.member("time_in_stage", first: &f)
            w.fixedObject { w, t in
                w.member("exits_measured", first: &t); w.int(s.staysMeasured)
                w.member("median_seconds", first: &t); number(s.medianSeconds.map { ($0 * 10).rounded() / 10 }, into: &w)
                w.member("p90_seconds", first: &t); number(s.p90Seconds.map { ($0 * 10).rounded() / 10 }, into: &w)
                w.member("relative_error", first: &t); w.number(0.0905)
            }
            w.member("totals", first: &f)
            w.write(room: stepRoom) { c in counts(s.totals, goal: hasGoal, rates: true, into: &c); c.byte(UInt8(ascii: "}")) }
        }
    }

    /// The most a step's or the totals' counts take (`counts` and the step's punctuation, its
    /// `start` aside): eight numbers of at most 20 characters, two shares of at most 24 and the keys.
    static let stepRoom = 512

    /// A stage's counts in a step or over the range (with the rates), keys in sorted order, the
    /// object left open: a step's `start` comes last (the caller closes it).
    static func counts(_ c: StageMetricsReads.Counts, goal: Bool, rates: Bool, into w: inout JSONCursor) {
        w.fragment(#"{"entries":"#); w.int(c.entries)
        w.fragment(#","exits":"#); w.int(c.exits)
        if goal {
            w.fragment(#","goal":{"conversion":"#); share(c.goalReached, of: c.entries, into: &w)
            w.fragment(#","reached":"#); w.int(c.goalReached)
            w.byte(UInt8(ascii: "}"))
        }
        if rates { w.fragment(#","later_rate":"#); share(c.movedLater, of: c.entries, into: &w) }
        w.fragment(#","left":"#); w.int(c.left)
        w.fragment(#","moved_back":"#); w.int(c.movedBack)
        w.fragment(#","moved_later":"#); w.int(c.movedLater)
        w.fragment(#","moved_next":"#); w.int(c.movedNext)
        if rates { w.fragment(#","next_rate":"#); share(c.movedNext, of: c.entries, into: &w) }
    }

    static func number(_ v: Double?, into w: inout JSONWriter) { if let v { w.number(v) } else { w.null() } }

    /// `part / whole` to four decimals, as `share` gives it and `number` writes it; null without a whole.
    static func share(_ part: Int, of whole: Int, into w: inout JSONCursor) {
        guard whole > 0 else { w.null(); return }
        let units = (Double(part) / Double(whole) * 10_000).rounded()
        if units >= 0, units <= 2_000_000 { w.tenThousandths(Int(units)) } else { w.number(units / 10_000) }
    }

    /// `share` into a writer (the segment metrics' goal conversion).
    static func share(_ part: Int, of whole: Int, into w: inout JSONWriter) { w.write(room: 32) { share(part, of: whole, into: &$0) } }
}
