import Foundation
import Postgres

/// The rollup deltas of migration 0070: the statements that write membership and stage history
/// and goals write what those rows add to the metrics rollups in the same statement (a
/// data-modifying CTE: no trigger, which Citus refuses, and no extra round trip), and one node
/// folds them into the rollup tables (`foldRollupDeltas`). Reads see rollups plus unfolded deltas
/// through the views that kept the rollup tables' names, so they are exact before any fold.
extension Store {
    /// Ends a statement `WITH h AS (INSERT INTO membership_history … RETURNING *)`: the segment
    /// deltas of the rows `h` inserted.
    static let segmentDeltasOfH = """
        INSERT INTO segment_rollup_deltas (lead_id, segment, at, entries, exits_rule, exits_time, exits_merge, exits_ruleset,
                                           exits_erase, drop_offs, k, channel_first, channel_last)
        SELECT * FROM leadrouter_segment_deltas(ARRAY(SELECT ROW(h.*)::membership_history FROM h))
        """

    /// Ends a statement `WITH g AS (INSERT INTO segment_goal_reached … RETURNING lead_id, segment, entered_at)`:
    /// a conversion per goal row actually inserted, in the hour of its entry.
    static let segmentGoalDeltasOfG = """
        INSERT INTO segment_rollup_deltas (lead_id, segment, at, goal_reached) SELECT lead_id, segment, entered_at, 1 FROM g
        """

    /// Ends a statement `WITH h AS (INSERT INTO stage_history … RETURNING *)`: the stage deltas of its rows.
    static let stageDeltasOfH = """
        INSERT INTO stage_rollup_deltas (lead_id, at, from_stage, to_stage, k, moves)
        SELECT lead_id, at, from_stage, to_stage, k, 1 FROM leadrouter_stage_deltas(ARRAY(SELECT ROW(h.*)::stage_history FROM h))
        """

    /// Ends a statement `WITH g AS (INSERT INTO stage_goal_reached … RETURNING lead_id, stage, entered_at, from_stage)`.
    static let stageGoalDeltasOfG = """
        INSERT INTO stage_rollup_deltas (lead_id, at, from_stage, to_stage, goal_reached) SELECT lead_id, entered_at, from_stage, stage, 1 FROM g
        """

    /// An arbitrary constant, the same on every node ("lr-rollup").
    static let rollupFoldLockKey: Int64 = 0x6c72_2d72_6f6c_6c75

    /// Folds every committed delta into the rollup tables and deletes it, when this transaction
    /// gets the fold's advisory lock (nil when another node holds it: that node is folding).
    /// The fold and the delete are one statement (`leadrouter_fold_rollup_deltas`), so a delta is
    /// counted exactly once whatever crashes or runs concurrently. Returns the rows folded.
    package func foldRollupDeltas() throws -> Int? {
        guard try connection.query("SELECT pg_try_advisory_xact_lock(\(Self.rollupFoldLockKey)::int8) AS got").scalar(Bool.self) else {
            return nil
        }
        // On Citus the fold waits for the rollup reads in flight (`rollupReadGuard`, migration 0087).
        return try connection.pipeline(["SELECT leadrouter_rollup_fold_guard()", "SELECT leadrouter_fold_rollup_deltas() AS n"])[1]
            .scalar(Int.self)
    }

    /// Makes the room of the delta rows folds deleted reusable now, for the next deltas, rather
    /// than at autovacuum's next visit (a minute or more apart): a delta lives one fold interval,
    /// so without it each delta table grew by every row written between two autovacuums —
    /// ~250 B per event of dead rows on the storage benchmark (docs/benchmarks/storage.md,
    /// 2026-12-07 entry of branch storage-slim3). Outside any transaction (VACUUM refuses one);
    /// `SKIP_LOCKED` leaves a table another node is vacuuming to it, and `TRUNCATE false` takes
    /// no exclusive lock to give emptied pages back: the next deltas fill them again.
    package func reclaimFoldedRollupDeltas() throws {
        _ = try connection.execute("VACUUM (SKIP_LOCKED, TRUNCATE false) segment_rollup_deltas, stage_rollup_deltas")
    }

    /// The first statement of every read of the rollup views, in the same transaction (or
    /// pipeline) as the reads: on Citus it waits for a fold in flight and keeps the next one out
    /// until the reads end, since a statement there reads each node with its own snapshot and
    /// could see half of a fold (migration 0087, docs/scale-out.md). A no-op on plain PostgreSQL.
    package static let rollupReadGuard: PostgresQuery = "SELECT leadrouter_rollup_read_guard()"

    /// Delta rows not folded yet (segment + stage): what a fold would take now.
    package func unfoldedRollupDeltas() throws -> Int {
        try connection.query("""
            SELECT (SELECT count(*) FROM segment_rollup_deltas) + (SELECT count(*) FROM stage_rollup_deltas) AS n
            """).scalar(Int.self)
    }

    /// The fold's backlog for `/metrics`: delta rows waiting per delta table and the age of the
    /// oldest (by `written_at`, migration 0080; its own clock, so the age is right whatever the
    /// app's clock says). A scan of the waiting rows — one fold interval's worth while the fold
    /// keeps up, so a few hundred rows; it grows with the backlog when folding stops, which is what
    /// the gauge is there to show.
    package func readUnfoldedRollupDeltas(into readings: inout OperationalReadings) throws {
        for row in try connection.query("""
            SELECT 'segment_rollup_deltas' AS deltas, count(*) AS n, extract(epoch FROM clock_timestamp() - min(written_at))::float8 AS age
            FROM segment_rollup_deltas
            UNION ALL
            SELECT 'stage_rollup_deltas', count(*), extract(epoch FROM clock_timestamp() - min(written_at))::float8 FROM stage_rollup_deltas
            """) {
            readings.unfoldedRollupDeltas[try row.decode(String.self, "deltas")] = try row.decode(Int.self, "n")
            if let age = try row.decode(Double?.self, "age") {
                readings.oldestUnfoldedRollupDeltaAge = max(readings.oldestUnfoldedRollupDeltaAge ?? 0, age, 0)
            }
        }
    }
}
