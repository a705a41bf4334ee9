import Foundation
import Postgres

/// A lead's stage changes and stage goals staged with a decision (migration 0048). Written in
/// the transaction that stores the decision, at the engine's `now`, so the funnel never sees a
/// stage the lead row does not hold.
package struct StageWrites {
    /// One change of `leads.stage`; `""` is "no stage" (a new lead, a merge, an erasure).
    package struct Change {
        var leadId: UUID
        var from: String
        var to: String
        /// `event`, `time_based`, `crm`, `ruleset_change` (merges and erasures write their own).
        var reason: String
        var rulesetVersion: Int
        var eventId: UUID?
        var at: Date

        package init(leadId: UUID, from: String?, to: String?, reason: String, rulesetVersion: Int, eventId: UUID?, at: Date) {
            self.leadId = leadId; self.from = from ?? ""; self.to = to ?? ""; self.reason = reason
            self.rulesetVersion = rulesetVersion; self.eventId = eventId; self.at = at
        }
    }

    /// A stage goal that held at `reachedAt`; it counts when the lead's latest entry of `stage`
    /// is at most `withinMilliseconds` earlier.
    package struct Goal {
        var leadId: UUID
        var stage: String
        var reachedAt: Date
        var withinMilliseconds: Int64

        package init(leadId: UUID, stage: String, reachedAt: Date, withinMilliseconds: Int64) {
            self.leadId = leadId; self.stage = stage; self.reachedAt = reachedAt; self.withinMilliseconds = withinMilliseconds
        }
    }

    package var changes: [Change] = []
    package var goals: [Goal] = []
    var isEmpty: Bool { changes.isEmpty && goals.isEmpty }
}

extension Store {
    /// The statements of `w`: the changes first (in staged order, so a lead's rows keep their
    /// sequence), then the goals, which find the entry of their stay among those rows. A goal
    /// already recorded for the stay is left as it is (`ON CONFLICT DO NOTHING`). A goal's
    /// entry is the latest matching stage row by `DISTINCT ON`, not a `LATERAL … LIMIT 1`:
    /// Citus cannot push a LIMIT down into a lateral subquery over a distributed table.
    func stageWriteQueries(_ w: StageWrites) -> [PostgresQuery] {
        var queries: [PostgresQuery] = []
        if !w.changes.isEmpty {
            let rows = Self.rows(w.changes) { j, f, c in
                j.member("l", first: &f); j.uuid(c.leadId)
                j.member("f", first: &f); j.string(c.from)
                j.member("s", first: &f); j.string(c.to)
                j.member("r", first: &f); j.string(c.reason)
                j.member("v", first: &f); j.int(c.rulesetVersion)
                if let e = c.eventId { j.member("e", first: &f); j.uuid(e) }
                j.member("t", first: &f); j.micros(c.at)
            }
            queries.append("""
                INSERT INTO stage_history (lead_id, from_stage, to_stage, reason, ruleset_version, event_id, occurred_at)
                SELECT (r ->> 'l')::uuid, r ->> 'f', r ->> 's', r ->> 'r', (r ->> 'v')::int, (r ->> 'e')::uuid,
                       \(unsafeRaw: Self.at("(r ->> 't')::int8"))
                FROM jsonb_array_elements(\(rows)) WITH ORDINALITY AS e(r, n) ORDER BY n
                """)
        }
        if !w.goals.isEmpty {
            let rows = Self.rows(w.goals) { j, f, g in
                j.member("l", first: &f); j.uuid(g.leadId)
                j.member("s", first: &f); j.string(g.stage)
                j.member("r", first: &f); j.micros(g.reachedAt)
                j.member("w", first: &f); j.int(Int(g.withinMilliseconds))
            }
            queries.append("""
                INSERT INTO stage_goal_reached (lead_id, stage, entered_at, from_stage, reached_at)
                SELECT DISTINCT ON (l, s) l, s, entered_at, from_stage, reached_at FROM (
                    SELECT DISTINCT ON (x.l, x.s, x.r, x.w) x.l, x.s, x.r, x.w, h.occurred_at AS entered_at, h.from_stage,
                           \(unsafeRaw: Self.at("x.r")) AS reached_at
                    FROM jsonb_to_recordset(\(rows)) AS x(l uuid, s text, r int8, w int8)
                    JOIN stage_history h ON h.lead_id = x.l AND h.occurred_at <= \(unsafeRaw: Self.at("x.r")) AND h.to_stage = x.s
                    ORDER BY x.l, x.s, x.r, x.w, h.occurred_at DESC, h.id DESC) AS latest
                WHERE reached_at - entered_at <= w * interval '1 millisecond'
                ORDER BY l, s, r
                ON CONFLICT DO NOTHING
                """)
        }
        return queries
    }

    /// The stage row of a merge: `loser`'s stay ends at `at` (reason `merge`). The survivor keeps
    /// its own stage until its decision; `loser`'s rows stay its own (see migration 0048).
    static func stageMergeQuery(_ loser: UUID, at: Date) -> PostgresQuery {
        """
        INSERT INTO stage_history (lead_id, from_stage, to_stage, reason, ruleset_version, event_id, occurred_at)
        SELECT id, stage, '', 'merge', coalesce(ruleset_version, 0), NULL, \(at) FROM leads WHERE id = \(loser) AND stage IS NOT NULL
        """
    }

    /// The stage rows of an erasure: each live lead of the group leaves its stage at `now`.
    static func stageErasureQuery(_ ids: [UUID], at now: Date) -> PostgresQuery {
        """
        INSERT INTO stage_history (lead_id, from_stage, to_stage, reason, ruleset_version, event_id, occurred_at)
        SELECT id, stage, '', 'erase', coalesce(ruleset_version, 0), NULL, \(now) FROM leads
        WHERE id = ANY(\(ids)) AND merged_into IS NULL AND stage IS NOT NULL
        """
    }
}

/// Moves between two stages in one step, and how many of the step's entrants that came that way
/// reached the goal of the stage they entered.
package struct StageMoveCount: Sendable, Equatable {
    package var start: Date
    package var from: String, to: String
    package var moves: Int, goalReached: Int
}

/// What the stage rollups hold over a range (migration 0048).
package struct StageMetricsRollup: Sendable {
    /// Moves by step and (from, to), oldest step first; steps without any are absent.
    package var moves: [StageMoveCount]
    /// Departures to another stage by stage and time-in-stage log bucket (`k`, see `StayHistogram`).
    package var stays: [String: [Int: Int]]
}

extension Store {
    /// The stage rollups for `[from, to)` in steps of `unit` (`hour`, `day`, `week`; for `day` and
    /// `week`, `from` must be a UTC midnight). As `segmentMetrics`: whole UTC days from the daily
    /// table, the hours of a last partial day (and every hour for `hour` steps) from the hourly
    /// one; stays cover the UTC days the range touches. One round trip.
    package func stageMetrics(from: Date, to: Date, unit: String) throws -> StageMetricsRollup {
        let step = unit == "week" ? "7 days" : "1 \(unit)"
        let results = try connection.pipeline([
            """
            WITH r AS (SELECT CASE WHEN \(unit) = 'hour' THEN \(from)::timestamptz
                                   ELSE greatest(\(from)::timestamptz, date_bin('1 day', \(to)::timestamptz, timestamptz '2001-01-01 00:00:00Z')) END AS split)
            SELECT date_bin(\(step)::interval, bucket, timestamptz '2001-01-01 00:00:00Z') AS t, from_stage, to_stage,
                   sum(moves)::int8 AS moves, sum(goal_reached)::int8 AS goal
            FROM (SELECT bucket, from_stage, to_stage, moves, goal_reached FROM stage_moves_daily, r WHERE bucket >= \(from) AND bucket < r.split
                  UNION ALL
                  SELECT bucket, from_stage, to_stage, moves, goal_reached FROM stage_moves_hourly, r WHERE bucket >= r.split AND bucket < \(to)) AS rows
            GROUP BY 1, 2, 3 ORDER BY 1
            """,
            Self.stayHistogramQuery(table: "stage", keys: "stage, ", from: from, to: to),
        ])
        let moves = try results[0].map { row in
            StageMoveCount(start: try row.decode(Date.self, "t"), from: try row.decode(String.self, "from_stage"),
                           to: try row.decode(String.self, "to_stage"), moves: try row.decode(Int.self, "moves"),
                           goalReached: try row.decode(Int.self, "goal"))
        }
        var stays: [String: [Int: Int]] = [:]
        for row in results[1] { stays[try row.decode(String.self, "stage"), default: [:]][try row.decode(Int.self, "k")] = try row.decode(Int.self, "n") }
        return StageMetricsRollup(moves: moves, stays: stays)
    }
}
