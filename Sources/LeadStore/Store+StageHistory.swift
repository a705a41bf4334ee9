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
    /// sequence), then the goals, which find the entry of their stay among those rows
    /// (`leadrouter_stage_goal_entries`, migration 0070). A goal already recorded for the stay is
    /// left as it is (`ON CONFLICT DO NOTHING`). Each statement writes its rollup deltas.
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
                WITH h AS (
                    INSERT INTO stage_history (lead_id, from_stage, to_stage, reason, ruleset_version, event_id, occurred_at)
                    SELECT (r ->> 'l')::uuid, r ->> 'f', r ->> 's', r ->> 'r', (r ->> 'v')::int, (r ->> 'e')::uuid,
                           \(unsafeRaw: Self.at("(r ->> 't')::int8"))
                    FROM jsonb_array_elements(\(rows)) WITH ORDINALITY AS e(r, n) ORDER BY n
                    RETURNING *)
                \(unsafeRaw: Self.stageDeltasOfH)
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
                WITH g AS (
                    INSERT INTO stage_goal_reached (lead_id, stage, entered_at, from_stage, reached_at)
                    SELECT * FROM leadrouter_stage_goal_entries(ARRAY(
                        SELECT ROW(x.l, x.s, \(unsafeRaw: Self.at("x.r")), x.w)::leadrouter_stage_goal_held
                        FROM jsonb_to_recordset(\(rows)) AS x(l uuid, s text, r int8, w int8)))
                    ON CONFLICT DO NOTHING RETURNING lead_id, stage, entered_at, from_stage)
                \(unsafeRaw: Self.stageGoalDeltasOfG)
                """)
        }
        return queries
    }

    /// The stage row of a merge: `loser`'s stay ends at `at` (reason `merge`). The survivor keeps
    /// its own stage until its decision; `loser`'s rows stay its own (see migration 0048).
    static func stageMergeQuery(_ loser: UUID, at: Date) -> PostgresQuery {
        """
        WITH h AS (
            INSERT INTO stage_history (lead_id, from_stage, to_stage, reason, ruleset_version, event_id, occurred_at)
            SELECT id, stage, '', 'merge', coalesce(ruleset_version, 0), NULL, \(at) FROM leads WHERE id = \(loser) AND stage IS NOT NULL
            RETURNING *)
        \(unsafeRaw: Self.stageDeltasOfH)
        """
    }

    /// The stage rows of an erasure: each live lead of the group leaves its stage at `now`.
    static func stageErasureQuery(_ ids: [UUID], at now: Date) -> PostgresQuery {
        """
        WITH h AS (
            INSERT INTO stage_history (lead_id, from_stage, to_stage, reason, ruleset_version, event_id, occurred_at)
            SELECT id, stage, '', 'erase', coalesce(ruleset_version, 0), NULL, \(now) FROM leads
            WHERE id = ANY(\(ids)) AND merged_into IS NULL AND stage IS NOT NULL
            RETURNING *)
        \(unsafeRaw: Self.stageDeltasOfH)
        """
    }
}

/// Moves between two stages in one rollup row (an hour or a whole UTC day), and how many of the
/// entrants that came that way reached the goal of the stage they entered.
package struct StageMoveCount: Sendable, Equatable {
    /// The row's bucket.
    package var start: Date
    /// Positions in the stages asked for; nil for no stage ('') or a stage not among them.
    package var from: Int?, to: Int?
    package var moves: Int, goalReached: Int
}

/// What the stage rollups hold over a range (migration 0048).
package struct StageMetricsRollup: Sendable {
    /// The rollup rows of the range as stored, in no order (the caller bins them into steps).
    package var moves: [StageMoveCount]
    /// Departures to another stage by stage and time-in-stage log bucket (`k`, see `StayHistogram`).
    package var stays: [String: [Int: Int]]
}

extension Store {
    /// The stage rollups for `[from, to)` in steps of `unit` (`hour`, `day`, `week`; for `day` and
    /// `week`, `from` must be a UTC midnight), stage names given as positions in `stages`. As
    /// `segmentMetrics`: whole UTC days from the daily table, the hours of a last partial day (and
    /// every hour for `hour` steps) from the hourly ones, as stored rows (not grouped: grouping cost
    /// PostgreSQL four times the scan), bucket times as binary timestamps; stays cover the UTC days
    /// the range touches. The folded hours come packed, one row an hour (migration 0086: a year by
    /// hour is 8 760 rows, not 105 000 of one pair each), the deltas not folded yet by pair, as the
    /// hourly view reads them. One round trip. Each rollup row goes to `move` as it is decoded
    /// (bucket start, from and to as positions in `stages`, moves, goal reached), in no order;
    /// returns the stays by stage and log bucket.
    package func stageMetrics(from: Date, to: Date, unit: String, stages: [String],
                              _ move: (_ start: Date, _ from: Int?, _ to: Int?, _ moves: Int, _ goalReached: Int) -> Void) throws -> [String: [Int: Int]] {
        let split = unit == "hour" ? from : max(from, Date(timeIntervalSince1970: (to.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400))
        // In binary: the bucket comes as PostgreSQL stores it (no `date_part` and no text per row),
        // the names and the packed hours as their bytes.
        var pairRows: PostgresQuery = """
            SELECT bucket, from_stage, to_stage, moves, goal_reached
            FROM stage_moves_daily WHERE bucket >= \(from) AND bucket < \(split)
            UNION ALL
            SELECT date_bin('1 hour', at, timestamptz '2001-01-01 00:00:00Z'), from_stage, to_stage, moves, goal_reached
            FROM stage_rollup_deltas
            WHERE date_bin('1 hour', at, timestamptz '2001-01-01 00:00:00Z') >= \(split)
              AND date_bin('1 hour', at, timestamptz '2001-01-01 00:00:00Z') < \(to)
            """
        pairRows.binaryResults = true
        var packedHours: PostgresQuery = "SELECT bucket, moves FROM stage_moves_hourly_packed WHERE bucket >= \(split) AND bucket < \(to)"
        packedHours.binaryResults = true
        let results = try connection.pipeline([Self.rollupReadGuard, pairRows, packedHours,
                                               Self.stayHistogramQuery(table: "stage", keys: "stage, ", from: from, to: to)])
            .dropFirst().map { $0 }  // the guard's empty result first (rollupReadGuard)
        let names = stages.map { Array($0.utf8) }
        // Each row handed over as it is decoded: no array of every pair (a year by hour is
        // ~105 000 of them, ~5 MB) and no pass over the packed hours only to size one.
        for row in results[0] {
            move(Date(timeIntervalSince1970: Double(try row.epochMicroseconds(at: 0)) / 1_000_000),
                 try row.index(at: 1, in: names), try row.index(at: 2, in: names), try row.int(at: 3), try row.int(at: 4))
        }
        for row in results[1] {
            let start = Date(timeIntervalSince1970: Double(try row.epochMicroseconds(at: 0)) / 1_000_000)
            try row.withBytes(at: 1) { bytes in
                try StageMovesPacked.forEach(in: bytes, names: names) { from, to, n, reached in move(start, from, to, n, reached) }
            }
        }
        var stays: [String: [Int: Int]] = [:]
        for row in results[2] { stays[try row.decode(String.self, "stage"), default: [:]][try row.decode(Int.self, "k")] = try row.decode(Int.self, "n") }
        return stays
    }

    /// `stageMetrics(from:to:unit:stages:_:)`'s rows collected (the tests compare them).
    package func stageMetrics(from: Date, to: Date, unit: String, stages: [String]) throws -> StageMetricsRollup {
        var moves: [StageMoveCount] = []
        let stays = try stageMetrics(from: from, to: to, unit: unit, stages: stages) { start, from, to, n, reached in
            moves.append(StageMoveCount(start: start, from: from, to: to, moves: n, goalReached: reached))
        }
        return StageMetricsRollup(moves: moves, stays: stays)
    }
}
