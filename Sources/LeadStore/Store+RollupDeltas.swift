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
    /// counted exactly once whatever crashes or runs concurrently. Then, in the same transaction
    /// but with a snapshot of its own (READ COMMITTED), it looks whether each delta table holds
    /// a row again — one committed since the fold's snapshot: under load nearly always, once the
    /// load stops never — which decides how `reclaimFoldedRollupDeltas` vacuums it.
    package func foldRollupDeltas() throws -> RollupFold? {
        guard try connection.query("SELECT pg_try_advisory_xact_lock(\(Self.rollupFoldLockKey)::int8) AS got").scalar(Bool.self) else {
            return nil
        }
        // On Citus the fold waits for the rollup reads in flight (`rollupReadGuard`, migration 0087).
        let rows = try connection.pipeline([
            "SELECT leadrouter_rollup_fold_guard()",
            "SELECT leadrouter_fold_rollup_deltas() AS n",
            Self.refilledRollupDeltaTables,
        ])
        return RollupFold(folded: try rows[1].scalar(Int.self), refilled: try Self.refilledRollupDeltaTables(rows[2]))
    }

    /// The delta tables that hold a row: after a fold in its transaction, a row committed since
    /// the fold's snapshot (this statement takes its own). Decoded by `refilledRollupDeltaTables(_:)`.
    package static let refilledRollupDeltaTables: PostgresQuery = """
        SELECT 'segment_rollup_deltas' AS refilled WHERE EXISTS (SELECT 1 FROM segment_rollup_deltas)
        UNION ALL
        SELECT 'stage_rollup_deltas' WHERE EXISTS (SELECT 1 FROM stage_rollup_deltas)
        """

    package static func refilledRollupDeltaTables(_ rows: PostgresRows) throws -> [RollupDeltaTable] {
        let names = Set(try rows.map { try $0.decode(String.self, "refilled") })
        return RollupDeltaTable.allCases.filter { names.contains($0.rawValue) }
    }

    /// Makes the room of the delta rows a fold deleted reusable now, for the next deltas, rather
    /// than at autovacuum's next visit (a minute or more apart): a delta lives one fold interval,
    /// so without it each delta table grew by every row written between two autovacuums —
    /// ~250 B per event of dead rows on the storage benchmark (docs/benchmarks/storage.md,
    /// 2026-12-07 entry of branch storage-slim3). Outside any transaction (VACUUM refuses one);
    /// `SKIP_LOCKED` leaves a table another node is vacuuming to it.
    ///
    /// The tables in `truncating` — those a fold left empty (`RollupFold.emptied`: nothing
    /// committed since its snapshot) — are vacuumed with `TRUNCATE true`, so its emptied pages go back to the file system instead
    /// of staying at the size of the busiest interval (225–265 B per event at the end of the
    /// storage benchmark, 2026-12-07 22:13 entry). The truncation needs an ACCESS EXCLUSIVE
    /// lock, which PostgreSQL takes only conditionally (`lazy_truncate_heap`,
    /// src/backend/access/heap/vacuumlazy.c: `ConditionalLockRelation`, retried every 50 ms for
    /// at most 5 s, never queued, so no insert waits behind an attempt) and, once held, gives up
    /// as soon as another backend waits for it (`count_nondeletable_pages` checks
    /// `LockHasWaitersRelation` every 20 ms; the scan of an empty table's few pages is shorter).
    /// An insert arriving meanwhile waits for that scan and the file's truncation, once after a
    /// quiet spell. A table with rows left (under load) keeps `TRUNCATE false`: its pages fill
    /// again within the interval, and no lane's insert ever queues behind the lock. On Citus the
    /// VACUUM and its options go to every shard placement (Citus's `vacuum.c`), each truncated
    /// on its worker by the same rules; the VACUUM changes no row a read sees, so it needs none
    /// of migration 0087's guards (the look for refilled tables runs under the fold's, in its
    /// transaction). The B-tree of each table's key keeps its pages (VACUUM never shrinks an
    /// index; emptied index pages are recycled for the next keys).
    package func reclaimFoldedRollupDeltas(truncating: [RollupDeltaTable]) throws {
        let keeping = RollupDeltaTable.allCases.filter { !truncating.contains($0) }
        // Table names from the closed `RollupDeltaTable`, nothing else in the text.
        for (tables, truncate) in [(truncating, true), (keeping, false)] where !tables.isEmpty {
            let names = tables.map(\.rawValue).joined(separator: ", ")
            _ = try connection.execute("VACUUM (SKIP_LOCKED, TRUNCATE \(unsafeRaw: String(truncate))) \(unsafeRaw: names)")
        }
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
