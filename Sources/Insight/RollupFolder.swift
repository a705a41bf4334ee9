import Essentials
import Foundation
import LeadStore
import Logging
import Postgres

/// Folds the rollup deltas (migration 0070) into the metrics rollup tables every `interval`
/// seconds. Every node runs it; each fold is one short transaction that first tries the fold's
/// advisory lock, so one node folds at a time and the others skip that tick (the retention job's
/// pattern, docs/scale-out.md#leadership-of-background-jobs). Reads never wait for a fold: the
/// rollup views add the unfolded deltas, so the interval only bounds how many delta rows a read
/// scans and how large the delta table grows (docs/insight.md).
public final class RollupFolder: Sendable {
    let pool: PostgresPool
    let logger: Logger
    let job: PeriodicJob
    /// Whether a delta table a fold left empty is truncated (`Store.reclaimFoldedRollupDeltas`).
    /// Not for a node that reads a replica: the truncation's ACCESS EXCLUSIVE lock is WAL-logged
    /// and a hot standby replays it unconditionally — there it waits for the rollup reads running
    /// on the standby (and cancels them after `max_standby_streaming_delay`) and blocks the next
    /// ones until the VACUUM's commit is applied, which a standby applying WAL late
    /// (`recovery_min_apply_delay`) does only after its delay. The conditional lock protects the
    /// primary's inserts, not the standby's reads. Such a node keeps the emptied pages, as before.
    let truncatesEmptiedTables: Bool

    public init(pool: PostgresPool, interval: Double, truncatesEmptiedTables: Bool = true, logger: Logger) {
        self.pool = pool; self.logger = logger; self.truncatesEmptiedTables = truncatesEmptiedTables
        job = PeriodicJob(name: "lr-rollup-fold", interval: interval, jitter: 0.2)
    }

    public func start() {
        job.start(pauseFirst: true) { [self] in
            do { try foldOnce() } catch { logger.warning("rollup deltas not folded", metadata: ["error": "\(error)"]) }
            return .pause
        }
    }

    public func stop() { job.stop() }

    /// One fold: the delta rows folded, or nil when another node held the lock (it is folding).
    /// A fold that deleted rows is followed by a VACUUM of the delta tables, so the next
    /// interval's deltas reuse their room instead of growing the tables; a table the fold left
    /// empty (the load has stopped) is also truncated, so an idle service keeps no heap page of
    /// it rather than its busiest interval's (`Store.reclaimFoldedRollupDeltas`), unless this
    /// node reads a replica (`truncatesEmptiedTables`).
    @discardableResult
    public func foldOnce() throws -> Int? {
        guard let fold = try pool.withTransaction({ try Store($0).foldRollupDeltas() }) else { return nil }
        if fold.folded > 0 {
            // The fold has committed: a VACUUM that fails leaves the room to autovacuum, as before.
            let truncating = truncatesEmptiedTables ? fold.emptied : []
            do { try pool.withConnection { try Store($0).reclaimFoldedRollupDeltas(truncating: truncating) } } catch {
                logger.warning("rollup deltas folded, not vacuumed", metadata: ["error": "\(error)"])
            }
        }
        return fold.folded
    }
}
