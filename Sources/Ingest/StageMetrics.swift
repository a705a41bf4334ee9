import Foundation
import LeadStore
import Postgres
import Segmentation

/// `GET /v1/stages/metrics`: the funnel between the active ruleset's stages over a range, from
/// the stage rollups (migration 0048, docs/insight.md). The rollups count moves by (from, to);
/// which move is "to the next stage" is decided here, in the funnel order of the ruleset read now.
package struct StageMetricsReads: Sendable {
    /// The primary, or a fresh enough read replica (`ReadRouting`).
    let reader: any ReadPoolChoosing
    package init(reader: any ReadPoolChoosing) { self.reader = reader }
    package init(pool: PostgresPool) { self.init(reader: pool) }

    /// One stage's counts in a step (or over the range).
    package struct Counts: Sendable, Equatable {
        package var entries = 0
        /// Moves to the stage right after this one in the funnel.
        package var movedNext = 0
        /// Moves to any later stage (the next one included).
        package var movedLater = 0
        /// Moves back to an earlier stage.
        package var movedBack = 0
        /// Departures to no stage (merges, erasures) or to a stage the active ruleset no longer has.
        package var left = 0
        /// Entrants of the step that reached the stage's goal within its horizon (so far).
        package var goalReached = 0
        package var exits: Int { movedLater + movedBack + left }
        package init() {}

        mutating func add(_ o: Counts) {
            entries += o.entries; movedNext += o.movedNext; movedLater += o.movedLater; movedBack += o.movedBack
            left += o.left; goalReached += o.goalReached
        }
    }

    package struct Stage: Sendable {
        package var name: String
        /// The next stage of the funnel (nil for the last).
        package var next: String?
        package var goal: Goal?
        package var steps: [(start: Date, counts: Counts)]
        package var totals: Counts
        /// Departures to another stage whose stay was measured, and its median and p90 in seconds.
        package var staysMeasured: Int
        package var medianSeconds: Double?, p90Seconds: Double?
    }

    package struct Report: Sendable {
        package var from: Date, to: Date, interval: SegmentMetricsReads.Interval
        /// In funnel order: the first stage a lead reaches first.
        package var stages: [Stage]
    }

    /// The funnel order of `stages` as a ruleset declares them. A ruleset lists the most advanced
    /// stage first (the first rule that holds wins, so `retention` must come before `awareness`),
    /// so the funnel is the declared list read backwards.
    package static func funnel(_ stages: [StageRule]) -> [StageRule] { stages.reversed() }

    /// The funnel of `stages` (declared order) for `[from, to)`, `from` moved back to the start of its step.
    package func report(stages declared: [StageRule], from: Date, to: Date, interval: SegmentMetricsReads.Interval) throws -> Report {
        let start = interval.floor(from)
        let funnel = Self.funnel(declared)
        // Per stage (funnel position), per step, in one array (stage `i`'s steps from `i * count`):
        // rows are added to the step holding their bucket, found by arithmetic (rows of a day fall
        // into its week), as they are decoded.
        let count = interval.stepCount(from: start, to: to)
        var byStep = [Counts](repeating: Counts(), count: funnel.count * count)
        let stayBuckets = try reader.pool(forLead: nil).withConnection {
            try Store($0).stageMetrics(from: start, to: to, unit: interval.rawValue, stages: funnel.map(\.stage)) { at, leaving, entering, moves, goalReached in
                guard let step = interval.step(of: at, from: start, count: count) else { return }
                if let j = entering {
                    byStep[j * count + step].entries += moves
                    byStep[j * count + step].goalReached += goalReached
                }
                guard let i = leaving else { return }
                if let j = entering {
                    if j > i { byStep[i * count + step].movedLater += moves; if j == i + 1 { byStep[i * count + step].movedNext += moves } } else { byStep[i * count + step].movedBack += moves }
                } else {
                    byStep[i * count + step].left += moves
                }
            }
        }
        let stages = funnel.enumerated().map { i, rule in
            var totals = Counts()
            let steps = (0..<count).map { k in
                let c = byStep[i * count + k]
                totals.add(c)
                return (start: interval.start(ofStep: k, from: start), counts: c)
            }
            let stays = stayBuckets[rule.stage] ?? [:]
            return Stage(name: rule.stage, next: i + 1 < funnel.count ? funnel[i + 1].stage : nil, goal: rule.goal, steps: steps,
                         totals: totals, staysMeasured: stays.values.reduce(0, +),
                         medianSeconds: StayHistogram.percentile(0.5, of: stays), p90Seconds: StayHistogram.percentile(0.9, of: stays))
        }
        return Report(from: start, to: to, interval: interval, stages: stages)
    }
}

extension SegmentMetricsReads {
    /// The stage funnel from the same reader (the dashboard holds segment metrics reads only).
    package var stages: StageMetricsReads { StageMetricsReads(reader: reader) }
}
