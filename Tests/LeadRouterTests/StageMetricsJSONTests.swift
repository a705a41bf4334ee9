import Foundation
import HTTPServer
import Segmentation
import XCTest
@testable import HTTPAPI
@testable import Ingest
@testable import JSONCoding

/// `StageMetricsJSON` writes exactly the bytes of the writer it replaced (`LegacyStageMetricsJSON`
/// below, main at 1878479, itself checked against `JSONEncoder`'s bytes when it replaced the
/// `Encodable` view): stages with and without a goal, the last with no `next`, quiet steps
/// (null shares), shares of every kind, no stays, steps of an hour, a day and a week, and a
/// stage whose steps do not start where the first stage's do.
final class StageMetricsJSONTests: XCTestCase {
    func report(_ interval: SegmentMetricsReads.Interval, steps count: Int, quiet: Bool, goals: [Goal?]) -> StageMetricsReads.Report {
        let start = interval.floor(Date(timeIntervalSince1970: 1_793_000_000))
        let names = ["awareness", "consideration", "decision", "re\"tention/x"]
        let stages = goals.enumerated().map { i, goal in
            var totals = StageMetricsReads.Counts()
            let steps = (0..<count).map { k -> (start: Date, counts: StageMetricsReads.Counts) in
                var c = StageMetricsReads.Counts()
                if !quiet, (k + i) % 4 != 0 {
                    c.entries = (7 * k + i) % 9_999 + (k % 5 == 0 ? 10_000 : 0)
                    c.movedNext = k % 3; c.movedLater = c.movedNext + k % 2; c.movedBack = (k + i) % 4; c.left = k % 7 == 0 ? 2 : 0
                    c.goalReached = [0, 1, c.entries / 3, c.entries, c.entries + 5, 2 * c.entries / 7][k % 6]
                }
                totals.add(c)
                // The last stage's steps start half an hour later: their times are formatted on their own.
                let t = interval.start(ofStep: k, from: start).addingTimeInterval(i == 3 ? 1800 : 0)
                return (start: t, counts: c)
            }
            let measured = quiet || i == 1 ? 0 : 17 + i
            return StageMetricsReads.Stage(name: names[i], next: i + 1 < goals.count ? names[i + 1] : nil, goal: goal, steps: steps, totals: totals,
                                           staysMeasured: measured, medianSeconds: measured == 0 ? nil : 3755.55 * Double(i + 1),
                                           p90Seconds: measured == 0 ? nil : 84_989.44)
        }
        return .init(from: start, to: interval.start(ofStep: count, from: start).addingTimeInterval(-900), interval: interval, stages: stages)
    }

    func testWritesTheBytesOfTheWriterItReplaced() throws {
        let ruleset = try Ruleset.load(yaml: StageMetricsTests.v1, fileName: "g.yaml").ruleset
        let goal = try XCTUnwrap(ruleset.stages.first { $0.goal != nil }?.goal)
        for interval in SegmentMetricsReads.Interval.allCases {
            for quiet in [false, true] {
                for goals in [[goal, nil, goal, nil], [nil, nil], [goal], []] as [[Goal?]] {
                    let r = report(interval, steps: interval == .hour ? 300 : 40, quiet: quiet, goals: goals)
                    let expected = LegacyStageMetricsJSON.response(r).body
                    let written = StageMetricsJSON.response(r).body
                    XCTAssertEqual(String(decoding: written, as: UTF8.self), String(decoding: expected, as: UTF8.self),
                                   "\(interval) quiet \(quiet) goals \(goals.map { $0 != nil })")
                }
            }
        }
    }

    /// The shares: `tenThousandths` writes what `number` writes for every share up to 200.
    func testSharesAsNumberWritesThem() {
        for k in 0...2_000_000 {
            var fast = JSONWriter(), slow = JSONWriter()
            fast.tenThousandths(k); slow.number(Double(k) / 10_000)
            if fast.bytes != slow.bytes {
                XCTFail("\(k): \(String(decoding: fast.bytes, as: UTF8.self)) != \(String(decoding: slow.bytes, as: UTF8.self))")
                return
            }
        }
        for (part, whole) in [(1, 3), (2, 3), (1, 7), (5, 9_999), (9_999, 10_000), (1, 20_001), (7, 2), (450, 1), (0, 1)] {
            var fast = JSONWriter(), slow = JSONWriter()
            StageMetricsJSON.share(part, of: whole, into: &fast)
            slow.number((Double(part) / Double(whole) * 10_000).rounded() / 10_000)
            XCTAssertEqual(fast.bytes, slow.bytes, "\(part)/\(whole)")
        }
    }
}

/// The stage funnel's writer as main had it (1878479), kept to compare bytes with.
enum LegacyStageMetricsJSON {
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
